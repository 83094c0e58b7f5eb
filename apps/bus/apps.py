from django.apps import AppConfig


class BusConfig(AppConfig):
    name = "apps.bus"
    label = "bus"

    def ready(self) -> None:
        # Every process (web, workers, commands, tests) reports the bus and queue gauges.
        from apps.bus.metrics import register_collectors  # noqa: PLC0415 - Django: imported while the app registry loads

        register_collectors()
