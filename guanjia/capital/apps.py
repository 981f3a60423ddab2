from django.apps import AppConfig


class CapitalConfig(AppConfig):
    name = "guanjia.capital"
    label = "capital"
    verbose_name = "资本与上市培育"

    def ready(self) -> None:
        from guanjia.capital.demo import add_demo_listings
        from guanjia.enterprises.demo import demo_built

        demo_built.connect(add_demo_listings, dispatch_uid="guanjia-capital-listings-demo")
