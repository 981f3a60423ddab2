from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "guanjia.enterprises"
    label = "enterprises"
    verbose_name = "企业库"
