"""Settings for the outreach pipeline, every value read from the environment.

This file is the only place that reads the environment. Names match the
contract in ARCHITECTURE.md and `.env.example`; values are normalised here once.
"""

import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def _csv(name: str, default: str) -> list[str]:
    """A comma-separated variable as a list of stripped, case-folded items."""
    return [item.strip().casefold() for item in env.str(name, default=default).split(",") if item.strip()]


def _bool(name: str, *, default: bool) -> bool:
    """A boolean variable; a value that is not clearly true or false is refused."""
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def _choice(name: str, *, default: str, choices: tuple[str, ...]) -> str:
    """A variable that takes one of a few words (any case); anything else stops start-up with one line naming it."""
    raw = env.str(name, default="").strip().lower() or default
    if raw not in choices:
        raise ImproperlyConfigured(f"{name} must be {' or '.join(choices)}, not {raw!r}")
    return raw


def _number(name: str, *, default: float, minimum: float, maximum: float | None = None, kind: type = int):
    """A numeric variable within [minimum, maximum]; anything else stops start-up with one line naming it."""
    raw = env.str(name, default="").strip()
    if not raw:
        return default
    wanted = f"{'a whole number' if kind is int else 'a number'} " + (
        f"from {minimum:g} to {maximum:g}" if maximum is not None else f"of at least {minimum:g}"
    )
    try:
        value = kind(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {wanted}, not {raw!r}") from None
    if not minimum <= value <= (maximum if maximum is not None else float("inf")):  # NaN fails here too
        raise ImproperlyConfigured(f"{name} must be {wanted}, not {raw!r}")
    return value


# --- Django -------------------------------------------------------------------
DEBUG = _bool("DEBUG", default=False)
# Empty by default: the embedded set-up then keeps a random key in var/secret_key.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
# Keys signed with before the current one (comma-separated): rotating SECRET_KEY and
# keeping the old one here keeps the unsubscribe links already sent working.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://localhost:8080").rstrip("/")
# A loopback or plain-HTTP SITE_URL puts dead unsubscribe links in emails: the engager
# refuses to send real email with one unless this says the links are meant to be local.
OUTREACH_ALLOW_LOCAL_LINKS = _bool("OUTREACH_ALLOW_LOCAL_LINKS", default=False)
LOG_FORMAT = env.str("LOG_FORMAT", default="text").strip().lower()
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()

INSTALLED_APPS = [
    "leads.apps.OutreachAdminConfig",  # django.contrib.admin, its index the dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "leads",
    "pipeline",
]

MIDDLEWARE = [
    "outreach_site.health.HealthMiddleware",  # first: /health answers whatever ALLOWED_HOSTS says
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "outreach_site.urls"
WSGI_APPLICATION = "outreach_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, commands) share the file: wait for a lock
    # instead of failing at once, and let readers go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not memory, so that workers and servers started by the tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # A down database must answer /ready quickly rather than hang the worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Production hardening; each can be relaxed from the environment behind a proxy
# that terminates TLS elsewhere.
# X-Forwarded-Proto is believed only behind a proxy that sets it (and drops the
# client's): otherwise any client could claim HTTPS and skip the redirect.
TRUST_X_FORWARDED_PROTO = _bool("TRUST_X_FORWARDED_PROTO", default=False)
if TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=False)
# /health and /ready are probed over plain HTTP inside the container network.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$"]
# Served over HTTPS (SECURE_SSL_REDIRECT on): cookies travel over HTTPS only. The
# embedded set-up is plain HTTP on a laptop, where secure cookies would break login.
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
SECURE_HSTS_SECONDS = _number("SECURE_HSTS_SECONDS", default=0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Email ----------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default=f"filemail://{VAR_DIR / 'outbox'}")
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    # django-environ drops the leading slash of an absolute path; read it ourselves.
    _path = urlsplit(env.str("EMAIL_URL", default=f"filemail://{VAR_DIR / 'outbox'}")).path
    _email["EMAIL_FILE_PATH"] = str(Path(_path) if Path(_path).is_absolute() else BASE_DIR / _path)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
EMAIL_TIMEOUT = _number("EMAIL_TIMEOUT", default=30, minimum=1, maximum=3600)

# --- Airtable ---------------------------------------------------------------------
AIRTABLE_API_KEY = env.str("AIRTABLE_API_KEY", default="")
AIRTABLE_BASE_ID = env.str("AIRTABLE_BASE_ID", default="")
AIRTABLE_TABLE_NAME = env.str("AIRTABLE_TABLE_NAME", default="")
AIRTABLE_ENDPOINT_URL = env.str("AIRTABLE_ENDPOINT_URL", default="https://api.airtable.com").rstrip("/")
# The field map: logical field -> the team's field name or field id (fld...).
# These defaults are the only place an Airtable field name is written in code.
AIRTABLE_FIELD_EMAIL = env.str("AIRTABLE_FIELD_EMAIL", default="Email")
AIRTABLE_FIELD_NAME = env.str("AIRTABLE_FIELD_NAME", default="Name")
AIRTABLE_FIELD_JOB_TITLE = env.str("AIRTABLE_FIELD_JOB_TITLE", default="Job Title")
AIRTABLE_FIELD_COMPANY_NAME = env.str("AIRTABLE_FIELD_COMPANY_NAME", default="Company Name")
AIRTABLE_FIELD_WEBSITE = env.str("AIRTABLE_FIELD_WEBSITE", default="Website")
AIRTABLE_FIELD_COMPANY_DESCRIPTION = env.str("AIRTABLE_FIELD_COMPANY_DESCRIPTION", default="Company Description")
AIRTABLE_FIELD_EMAIL_CONFIDENCE_LEVEL = env.str(
    "AIRTABLE_FIELD_EMAIL_CONFIDENCE_LEVEL", default="Email Confidence Level"
)
AIRTABLE_FIELD_CUSTOM_MESSAGE = env.str("AIRTABLE_FIELD_CUSTOM_MESSAGE", default="Custom Message")
AIRTABLE_FIELD_ENGAGEMENT_STATUS = env.str("AIRTABLE_FIELD_ENGAGEMENT_STATUS", default="Engagement Status")
AIRTABLE_FIELD_DATE_MESSAGED = env.str("AIRTABLE_FIELD_DATE_MESSAGED", default="Date Messaged")
AIRTABLE_FIELD_SKIP_REASON = env.str("AIRTABLE_FIELD_SKIP_REASON", default="")
AIRTABLE_FIELD_REPLY = env.str("AIRTABLE_FIELD_REPLY", default="")
AIRTABLE_FIELD_TOUCHES = env.str("AIRTABLE_FIELD_TOUCHES", default="")
# Read: the lead's time zone (an IANA name, `UTC+05:30`, a country's ISO code or name); empty: not read.
AIRTABLE_FIELD_TIME_ZONE = env.str("AIRTABLE_FIELD_TIME_ZONE", default="")
AIRTABLE_TIMEOUT = _number("AIRTABLE_TIMEOUT", default=30.0, minimum=0.1, maximum=600, kind=float)
# Airtable allows 5 requests/s per base; the pacer keeps every process under this.
AIRTABLE_REQUESTS_PER_SECOND = _number("AIRTABLE_REQUESTS_PER_SECOND", default=5.0, minimum=0, maximum=1000, kind=float)
# Tries after the first, for 429, 5xx and network errors; after a 429 Airtable makes a client wait 30 s.
AIRTABLE_MAX_RETRIES = _number("AIRTABLE_MAX_RETRIES", default=5, minimum=0, maximum=20)
AIRTABLE_RETRY_429_SECONDS = _number("AIRTABLE_RETRY_429_SECONDS", default=30.0, minimum=0, maximum=600, kind=float)
AIRTABLE_RETRY_BACKOFF_SECONDS = _number(
    "AIRTABLE_RETRY_BACKOFF_SECONDS", default=1.0, minimum=0, maximum=600, kind=float
)
# An incremental pull asks for records changed after the last pull began, less this margin: Airtable's
# clock and ours may differ, and a record edited while that pull read its page is read again.
AIRTABLE_INCREMENTAL_MARGIN_SECONDS = _number(
    "AIRTABLE_INCREMENTAL_MARGIN_SECONDS", default=300, minimum=0, maximum=86400
)
# Hours between scheduled full pulls, which find records deleted in Airtable (0: none); a week at most,
# well within the 32767 minutes a Schedule holds.
AIRTABLE_FULL_PULL_HOURS = _number("AIRTABLE_FULL_PULL_HOURS", default=24, minimum=0, maximum=168)

# --- LLM --------------------------------------------------------------------------
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
# OPENAI_PROXY, else the usual proxy variables (in either case) that other tools also read.
OPENAI_PROXY = next(
    (
        env.str(name)
        for name in ("OPENAI_PROXY", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
        if env.str(name, default="")
    ),
    "",
)
OPENAI_TIMEOUT = _number("OPENAI_TIMEOUT", default=30.0, minimum=0.1, maximum=600, kind=float)
OPENAI_MAX_RETRIES = _number("OPENAI_MAX_RETRIES", default=2, minimum=0, maximum=10)
OPENAI_CONCURRENCY = _number("OPENAI_CONCURRENCY", default=8, minimum=1, maximum=256)
# check: every AI draft is checked against the lead's data (asked again once, then the template); off: not refused.
OUTREACH_GROUNDING = _choice("OUTREACH_GROUNDING", default="check", choices=("check", "off"))

# --- Scraper ----------------------------------------------------------------------
SCRAPER_CONCURRENCY = _number("SCRAPER_CONCURRENCY", default=16, minimum=1, maximum=256)
SCRAPER_PER_HOST = _number("SCRAPER_PER_HOST", default=2, minimum=1, maximum=256)
SCRAPER_TIMEOUT = _number("SCRAPER_TIMEOUT", default=10.0, minimum=0.1, maximum=600, kind=float)
SCRAPER_MAX_BYTES = _number("SCRAPER_MAX_BYTES", default=2_000_000, minimum=1024)
SCRAPER_RETRY_HOURS = _number("SCRAPER_RETRY_HOURS", default=24, minimum=0)
# For tests only: lets the scraper fetch loopback addresses (private and metadata ones stay refused).
SCRAPER_ALLOW_PRIVATE = _bool("SCRAPER_ALLOW_PRIVATE", default=False)

# --- Outreach ----------------------------------------------------------------------
OUTREACH_FROM_EMAIL = env.str("OUTREACH_FROM_EMAIL", default="Outreach <outreach@example.com>")
OUTREACH_REPLY_TO = env.str("OUTREACH_REPLY_TO", default="")
OUTREACH_OFFER = env.str(
    "OUTREACH_OFFER",
    default="We help small sales teams turn their lead lists into personal first emails, without the busywork.",
)
OUTREACH_POSTAL_ADDRESS = env.str("OUTREACH_POSTAL_ADDRESS", default="Example Co, 1 Main Street, Springfield, USA")
OUTREACH_DAILY_CAP = _number("OUTREACH_DAILY_CAP", default=50, minimum=0)
OUTREACH_RECONTACT_DAYS = _number("OUTREACH_RECONTACT_DAYS", default=90, minimum=0)
OUTREACH_EXCLUDED_STATUSES = _csv("OUTREACH_EXCLUDED_STATUSES", "Do Not Contact,Unsubscribed,Bounced,Replied")
OUTREACH_EXCLUDED_CONFIDENCE = _csv("OUTREACH_EXCLUDED_CONFIDENCE", "")
OUTREACH_CHECK_DELIVERABILITY = _bool("OUTREACH_CHECK_DELIVERABILITY", default=False)
# The DNS server those checks ask, host:port; empty: the system's resolver.
OUTREACH_DNS_SERVER = env.str("OUTREACH_DNS_SERVER", default="")
# first: a person approves each lead's first email in the admin; all: every email; none: nothing waits.
OUTREACH_APPROVAL = _choice("OUTREACH_APPROVAL", default="first", choices=("first", "all", "none"))
OUTREACH_BATCH_SIZE = _number("OUTREACH_BATCH_SIZE", default=200, minimum=1, maximum=10_000)


def _day_counts(name: str) -> list[int]:
    """A comma-separated list of whole days, each from 1 to 365; empty: an empty list."""
    raw = env.str(name, default="").strip()
    items = [item.strip() for item in raw.split(",")] if raw else []
    if not all(item.isdigit() and 1 <= int(item) <= 365 for item in items):
        raise ImproperlyConfigured(f"{name} must be whole days from 1 to 365, comma-separated (3,5), not {raw!r}")
    return [int(item) for item in items]


# --- Sequence ------------------------------------------------------------------------
# Days between touches: "3,5" sends touch 2 three days after touch 1, touch 3 five days after
# touch 2; empty: one email per lead.
OUTREACH_FOLLOWUP_DAYS = _day_counts("OUTREACH_FOLLOWUP_DAYS")

# --- Sending schedule and mailboxes -------------------------------------------------
_WINDOW = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)-([01]?\d|2[0-4]):([0-5]\d)$")
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _window(name: str, default: str) -> str:
    """`HH:MM-HH:MM` in the lead's local time, or empty (any time)."""
    value = "".join(env.str(name, default=default).split())
    if value and not _WINDOW.match(value):
        raise ImproperlyConfigured(f"{name}={value!r}: write a window as HH:MM-HH:MM (09:00-17:00), or leave it empty")
    return value


def _days(name: str, default: str) -> str:
    """Days as `mon-fri` or `mon,wed,fri` (ranges and lists), case-folded."""
    value = "".join(env.str(name, default=default).split()).lower()
    for part in filter(None, value.split(",")):
        if not all(day in _DAY_NAMES for day in part.split("-")) or part.count("-") > 1:
            raise ImproperlyConfigured(f"{name}={value!r}: name days as mon-fri or mon,wed,fri")
    return value


def _seconds_range(name: str, default: str) -> tuple[float, float]:
    """`0`, `N` or a random `A-B` seconds, as (A, B)."""
    value = "".join(env.str(name, default=default).split())
    try:
        low, _, high = value.partition("-")
        pair = (float(low), float(high or low))
    except ValueError:
        pair = (-1.0, -1.0)
    if not (0 <= pair[0] <= pair[1] <= 86400):
        raise ImproperlyConfigured(f"{name}={value!r}: write 0, a number of seconds, or a range such as 60-240")
    return pair


def _rate(name: str, default: float) -> float:
    return _number(name, default=default, minimum=0.0, maximum=1.0, kind=float)


OUTREACH_SEND_WINDOW = _window("OUTREACH_SEND_WINDOW", "09:00-17:00")
OUTREACH_SEND_DAYS = _days("OUTREACH_SEND_DAYS", "mon-fri")
OUTREACH_TIME_ZONE = env.str("OUTREACH_TIME_ZONE", default="") or TIME_ZONE
OUTREACH_SEND_GAP_SECONDS = _seconds_range("OUTREACH_SEND_GAP_SECONDS", "60-240")
OUTREACH_WARMUP_START = _number("OUTREACH_WARMUP_START", default=0, minimum=0)
OUTREACH_WARMUP_STEP = _number("OUTREACH_WARMUP_STEP", default=2, minimum=0)
OUTREACH_PAUSE_BOUNCE_RATE = _rate("OUTREACH_PAUSE_BOUNCE_RATE", 0.05)
OUTREACH_PAUSE_COMPLAINT_RATE = _rate("OUTREACH_PAUSE_COMPLAINT_RATE", 0.003)
# Empty: one mailbox named `default` (OUTREACH_FROM_EMAIL, EMAIL_URL, INBOX_URL, OUTREACH_DAILY_CAP).
OUTREACH_MAILBOXES = [name.lower() for name in _csv("OUTREACH_MAILBOXES", "")]
# Name -> its settings, MAILBOX_<NAME>_FROM / _EMAIL_URL / _INBOX_URL / _DAILY_CAP (read by pipeline/mailboxes.py).
MAILBOX_SETTINGS = {
    name: {
        "from_email": env.str(f"MAILBOX_{name.upper()}_FROM", default=""),
        "email_url": env.str(f"MAILBOX_{name.upper()}_EMAIL_URL", default=""),
        "inbox_url": env.str(f"MAILBOX_{name.upper()}_INBOX_URL", default=""),
        "daily_cap": _number(f"MAILBOX_{name.upper()}_DAILY_CAP", default=OUTREACH_DAILY_CAP, minimum=0),
    }
    for name in OUTREACH_MAILBOXES
}
for _name, _mailbox in MAILBOX_SETTINGS.items():
    for _key, _suffix in (("from_email", "FROM"), ("email_url", "EMAIL_URL")):
        if not _mailbox[_key]:
            raise ImproperlyConfigured(f"OUTREACH_MAILBOXES names {_name!r}: set MAILBOX_{_name.upper()}_{_suffix}")

# --- Inbox ---------------------------------------------------------------------------
# imaps://user:password@host:993/INBOX (or imap://…?starttls=true); empty: no inbox is read.
INBOX_URL = env.str("INBOX_URL", default="")
# Schedule.minutes is a PositiveSmallIntegerField: 32767 at most; 0: not scheduled.
INBOX_POLL_MINUTES = _number("INBOX_POLL_MINUTES", default=5, minimum=0, maximum=32767)
INBOX_MAX_AGE_MINUTES = _number("INBOX_MAX_AGE_MINUTES", default=30, minimum=1)
INBOX_TIMEOUT = _number("INBOX_TIMEOUT", default=30.0, minimum=0.1, maximum=600, kind=float)
# A run stops fetching after this long; the rest is read by the next run.
INBOX_RUN_SECONDS = _number("INBOX_RUN_SECONDS", default=240.0, minimum=1, maximum=86400, kind=float)
OUTREACH_SOFT_BOUNCE_LIMIT = _number("OUTREACH_SOFT_BOUNCE_LIMIT", default=3, minimum=1, maximum=1000)
OUTREACH_STOP_ON_AUTO_REPLY = _bool("OUTREACH_STOP_ON_AUTO_REPLY", default=False)
# ESP webhooks (django-anymail): the shared basic-auth secret `user:password`, without
# which no webhook URL is served, and Mailgun's webhook signing key.
ANYMAIL_WEBHOOK_SECRET = env.str("ANYMAIL_WEBHOOK_SECRET", default="")
ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY = env.str("ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY", default="")
ANYMAIL = {"WEBHOOK_SECRET": ANYMAIL_WEBHOOK_SECRET}
if ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY:  # unset, Mailgun's webhook answers 500 rather than accept an empty key
    ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"] = ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY

# --- Queue (django-q2) ---------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# At least 1: django-q2 reads 0 as "no timeout" and "retry forever".
Q_TIMEOUT = _number("Q_TIMEOUT", default=1800, minimum=1)
Q_MAX_ATTEMPTS = _number("Q_MAX_ATTEMPTS", default=2, minimum=1, maximum=100)
Q_CLUSTER = {
    "name": "outreach",
    "workers": _number("Q_WORKERS", default=2, minimum=1, maximum=256),
    # django-q2 requires timeout < retry, or a slow task is handed out twice.
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT + 300,
    # A task whose worker died is handed out again, at most this many times in all.
    "max_attempts": Q_MAX_ATTEMPTS,
    # A worker that was down does not replay every missed run at once.
    "catch_up": False,
    # Successes kept; failures are always kept, for the admin. A failed task
    # leaves the queue (acknowledged): its schedule runs it again.
    "save_limit": 500,
    "ack_failures": True,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# Schedule.minutes is a PositiveSmallIntegerField: 32767 at most.
PIPELINE_SCHEDULE_MINUTES = _number("PIPELINE_SCHEDULE_MINUTES", default=60, minimum=0, maximum=32767)

# --- Logging -------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "outreach_site.logs.RedactSecretsFilter"}},
    "formatters": {
        "text": {"()": "outreach_site.logs.TextFormatter"},
        "json": {"()": "outreach_site.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},  # the OpenAI SDK's HTTP client: one line per request otherwise
    },
}
