"""Liveness and readiness.

`/health` says only that this web process answers: it touches no database,
broker or service and imports nothing heavy, so a load balancer never pulls a
web process because the pipeline, the queue or the database is having trouble.
`/ready` checks the database and the broker and names what is down.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 `{"status": "ok"}` whenever this process can answer at all."""
    return JsonResponse({"status": "ok"})


class HealthMiddleware:
    """Answers `GET /health` before any other middleware runs.

    The container's HEALTHCHECK and a load balancer's probe ask for `localhost`
    or an IP address, not a name in ALLOWED_HOSTS; answering here means the
    host check (and the session, CSRF and auth middleware) never turns a live
    process into a 400. The view is the same one `/health` routes to.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path_info == "/health":
            return health(request)
        return self.get_response(request)


def _check_database() -> str | None:
    from django.db import Error, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Error as exc:  # every database failure (refused, timed out, auth) is "not ready"
        connection.close_if_unusable_or_obsolete()
        return type(exc).__name__
    return None


def _check_broker() -> str | None:
    from django.conf import settings

    if not settings.REDIS_URL:
        return None  # the ORM broker is the database, checked above
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return type(exc).__name__
    return None


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer; 503 naming each one that does not."""
    failing = {name: error for name, error in (("database", _check_database()), ("broker", _check_broker())) if error}
    if failing:
        return JsonResponse({"status": "unavailable", "failing": failing}, status=503)
    return JsonResponse({"status": "ok"})
