from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "guanjia.dispatch"
    label = "dispatch"
    verbose_name = "智能分派"

    def ready(self) -> None:
        from guanjia.core import home
        from guanjia.dispatch import home as dispatch_home
        from guanjia.dispatch import receivers  # noqa: F401 - connects to the appeals' signals
        from guanjia.dispatch.demo import add_demo_routing
        from guanjia.enterprises.demo import demo_built

        # After the appeals' demo hooks (this app comes later in INSTALLED_APPS): it reads their history.
        demo_built.connect(add_demo_routing, dispatch_uid="guanjia-dispatch-demo")
        home.register(dispatch_home.sections)
