from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "guanjia.enterprises"
    label = "enterprises"
    verbose_name = "企业库"

    def ready(self) -> None:
        from guanjia.core import home
        from guanjia.enterprises.home import sections

        home.register(sections)
