from django.apps import AppConfig


class WindowsConfig(AppConfig):
    name = "guanjia.windows"
    label = "windows"
    verbose_name = "服务窗口"
