from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "guanjia.exchange"
    label = "exchange"
    verbose_name = "挂职结对"

    def ready(self) -> None:
        from guanjia.core import home
        from guanjia.enterprises.demo import demo_built
        from guanjia.exchange import home as exchange_home
        from guanjia.exchange.demo import add_demo_exchange

        home.register(exchange_home.sections)
        # After the investment demo (INSTALLED_APPS order): sourced leads may point at its leads.
        demo_built.connect(add_demo_exchange, dispatch_uid="guanjia-exchange-demo")
