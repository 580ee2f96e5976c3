from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "pipeline"
    verbose_name = "Pipeline"

    def ready(self) -> None:
        from django.conf import settings
        from django.core import checks

        from pipeline.engage import site_links, watch

        # Follow-ups wait while nobody can see the answers to earlier touches; say so at start-up.
        checks.register(watch.check_followups_can_see_answers)

        # A plain check, not deploy-only: `check --deploy` shows it, and so does every
        # command that runs the checks as it starts, qcluster among them.
        checks.register(site_links.check_site_url, checks.Tags.security)

        # ESP webhooks are served only behind their secret (outreach_site/urls.py); without it
        # nothing listens, and the web process starts without loading anymail.
        if settings.ANYMAIL_WEBHOOK_SECRET:
            from pipeline.inbox import webhooks  # here: the app registry is ready, models can be imported

            webhooks.connect()
