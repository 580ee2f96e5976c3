from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "pipeline"
    verbose_name = "Pipeline"

    def ready(self) -> None:
        from pipeline.inbox import webhooks  # here: the app registry is ready, models can be imported

        webhooks.connect()
