from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "guanjia.appeals"
    label = "appeals"
    verbose_name = "诉求"

    def ready(self) -> None:
        from guanjia.appeals.demo import add_demo_appeals, add_demo_routes
        from guanjia.enterprises.demo import demo_built

        # Routes first: the demo appeals are dispatched along them.
        demo_built.connect(add_demo_routes, dispatch_uid="guanjia-appeals-demo-routes")
        demo_built.connect(add_demo_appeals, dispatch_uid="guanjia-appeals-demo-appeals")
