from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "guanjia.appeals"
    label = "appeals"
    verbose_name = "诉求"

    def ready(self) -> None:
        from guanjia.appeals import home as appeals_home
        from guanjia.appeals.demo import add_demo_appeals, add_demo_routes
        from guanjia.core import home
        from guanjia.enterprises.demo import demo_built

        home.register(appeals_home.sections)

        # Routes first: the demo appeals are dispatched along them.
        demo_built.connect(add_demo_routes, dispatch_uid="guanjia-appeals-demo-routes")
        demo_built.connect(add_demo_appeals, dispatch_uid="guanjia-appeals-demo-appeals")
