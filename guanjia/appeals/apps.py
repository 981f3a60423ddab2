from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "guanjia.appeals"
    label = "appeals"
    verbose_name = "诉求"

    def ready(self) -> None:
        from guanjia.appeals.demo import add_demo_routes
        from guanjia.enterprises.demo import demo_built

        demo_built.connect(add_demo_routes, dispatch_uid="guanjia-appeals-demo-routes")
