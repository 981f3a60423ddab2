from django.apps import AppConfig


class WindowsConfig(AppConfig):
    name = "guanjia.windows"
    label = "windows"
    verbose_name = "服务窗口"

    def ready(self) -> None:
        from guanjia.core import context_processors, home
        from guanjia.enterprises.demo import demo_built
        from guanjia.windows import home as windows_home
        from guanjia.windows.access import is_on_some_staff
        from guanjia.windows.demo import add_demo_windows

        home.register(windows_home.sections)
        # 我的班次 and 窗口预约接待 are for the staff of a unit, whatever their role.
        context_processors.register_condition("windows:my-shifts", is_on_some_staff)
        context_processors.register_condition("windows:my-bookings", is_on_some_staff)
        demo_built.connect(add_demo_windows, dispatch_uid="guanjia-windows-demo")
