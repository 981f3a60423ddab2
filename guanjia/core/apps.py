from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_pragmas(sender, connection, **kwargs) -> None:
    # WAL lets readers go on while one writer writes; synchronous=NORMAL is the
    # documented safe pairing with WAL.
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")


class CoreConfig(AppConfig):
    name = "guanjia.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        connection_created.connect(_sqlite_pragmas, dispatch_uid="guanjia-sqlite-pragmas")
        from guanjia.core import home, home_sections, signals  # noqa: F401  (signals: login/logout audit)

        home.register(home_sections.sections)
