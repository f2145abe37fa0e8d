from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Real-time events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connect the post_save receivers that turn Job and ScrapeRun saves into events.
        from realtime import signals

        signals.connect()
