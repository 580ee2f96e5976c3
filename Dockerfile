# The web process (this image's CMD) and the worker (`python manage.py qcluster`)
# run from this one image; docker-compose.yml shows both.
# Same Python minor version as the test suite runs on (tests/test_container.py checks).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=outreach_site.settings

# curl is what HEALTHCHECK runs. Debian's security updates replace exact
# versions, so a pinned curl would break the build within weeks.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 app \
    && useradd --no-log-init --create-home --uid 10001 --gid app app

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements.txt

COPY . .
# collectstatic needs a SECRET_KEY to load the settings; this throwaway one
# lives only for this step, so no key is baked into the image (without
# SECRET_KEY the settings would write one under var/). var/ belongs to the
# app user: the embedded set-up keeps its SQLite file and outbox there.
RUN SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --no-input -v0 \
    && mkdir -p var/outbox \
    && chown -R app:app var

# Numeric, so that a platform can check the image does not run as root.
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=5 \
    CMD ["curl", "-fsS", "http://localhost:8080/health"]
CMD ["gunicorn", "-c", "outreach_site/gunicorn.conf.py", "--bind", "0.0.0.0:8080"]
