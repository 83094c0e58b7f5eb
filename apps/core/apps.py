from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        # Every process (web, workers, commands, tests) reports the bus and queue gauges.
        from tradebot.metrics import register_collectors

        register_collectors()
