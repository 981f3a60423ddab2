from typing import Any

from django.apps import AppConfig


def create_schedule(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """A newly registered enterprise gets its schedule row at once (bulk imports: see services.sync)."""
    if created and not raw:
        from guanjia.visits.services import refresh_schedule

        refresh_schedule(instance)


class VisitsConfig(AppConfig):
    name = "guanjia.visits"
    label = "visits"
    verbose_name = "走访"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from guanjia.enterprises.demo import demo_built
        from guanjia.enterprises.models import Enterprise
        from guanjia.visits.demo import add_demo_visits

        post_save.connect(create_schedule, sender=Enterprise, dispatch_uid="guanjia-visits-schedule")
        # After the appeals' demo hooks (apps are ready in INSTALLED_APPS order): visits raise appeals.
        demo_built.connect(add_demo_visits, dispatch_uid="guanjia-visits-demo")
