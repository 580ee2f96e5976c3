"""gunicorn settings for the web process; every value can be overridden by GUNICORN_* variables."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8080")
# Threads keep /health answering while a slow admin page is being rendered.
# Two workers for two cores: with both cores busy on cluster jobs, /health's
# p99 stays under 4 ms one request at a time (make bench-health); more workers
# would only compete with each other for the same cores.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
# Workers load the app themselves: a broken database never stops the master from starting.
preload_app = False
wsgi_app = "outreach_site.wsgi:application"
