from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        # A production start-up with a weak signing secret stops here (tradebot/security.py).
        from django.conf import settings

        from tradebot.security import check_secrets

        check_secrets(settings)
