from django.apps import AppConfig
from django.conf import settings

from tradebot.security import check_secrets


class TradebotConfig(AppConfig):
    name = "tradebot"
    label = "tradebot"

    def ready(self) -> None:
        # A production start-up with a weak signing secret stops here (tradebot/security.py).
        check_secrets(settings)
