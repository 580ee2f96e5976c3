from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "pipeline"
    verbose_name = "Pipeline"

    def ready(self) -> None:
        from django.conf import settings
        from django.core import checks

        from pipeline.engage import watch

        # Follow-ups wait while nobody can see the answers to earlier touches; say so at start-up.
        checks.register(watch.check_followups_can_see_answers)

        # ESP webhooks are served only behind their secret (outreach_site/urls.py); without it
        # nothing listens, and the web process starts without loading anymail.
        if settings.ANYMAIL_WEBHOOK_SECRET:
            from pipeline.inbox import webhooks  # here: the app registry is ready, models can be imported

            webhooks.connect()
