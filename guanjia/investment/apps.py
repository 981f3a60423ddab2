from django.apps import AppConfig


class InvestmentConfig(AppConfig):
    name = "guanjia.investment"
    label = "investment"
    verbose_name = "产业链招商"

    def ready(self) -> None:
        from guanjia.core import home
        from guanjia.enterprises.demo import demo_built
        from guanjia.investment import home as investment_home
        from guanjia.investment.demo import add_demo_investment

        home.register(investment_home.sections)

        # After the appeals', visits' and campaigns' demo hooks (apps are ready in INSTALLED_APPS order).
        demo_built.connect(add_demo_investment, dispatch_uid="guanjia-investment-demo")
