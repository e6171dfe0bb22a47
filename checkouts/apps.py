from django.apps import AppConfig


class CheckoutsConfig(AppConfig):
    name = "checkouts"
    verbose_name = "Checkouts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from checkouts import signals

        signals.connect()
