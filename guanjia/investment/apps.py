from django.apps import AppConfig


class InvestmentConfig(AppConfig):
    name = "guanjia.investment"
    label = "investment"
    verbose_name = "产业链招商"
