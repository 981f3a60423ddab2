from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "guanjia.dispatch"
    label = "dispatch"
    verbose_name = "智能分派"

    def ready(self) -> None:
        from guanjia.dispatch import receivers  # noqa: F401 - connects to the appeals' signals
