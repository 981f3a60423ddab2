from typing import Any

from django.apps import AppConfig


def create_schedule(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """A newly registered enterprise gets its schedule row at once (in the transaction that created it)."""
    if created and not raw:
        from guanjia.visits.services import refresh_schedule

        refresh_schedule(instance)


def recompute_changed(sender: Any, ids: list[int], **kwargs: Any) -> None:
    """An import created enterprises (without post_save) or a registry edit changed one (its tier):
    their rows are computed again in batches, in the same transaction."""
    from guanjia.visits.services import recompute_schedules

    recompute_schedules(ids)


def hand_over_plans(
    sender: Any, enterprise: Any, previous_id: int | None, steward: Any, by: Any, **kwargs: Any
) -> None:
    """An enterprise has a new steward (a handover among others): its open plans go with it."""
    from guanjia.visits.services import hand_over_plans as move

    move(enterprise, steward=steward, by=by)


def reschedule_after_calendar_change(sender: Any, years: frozenset[int], **kwargs: Any) -> None:
    """Due dates never land on a non-working day: a calendar change moves them. Handed to the worker,
    since the admin's request should not recompute every enterprise."""
    from guanjia.visits.tasks import reschedule_visits

    reschedule_visits()


class VisitsConfig(AppConfig):
    name = "guanjia.visits"
    label = "visits"
    verbose_name = "走访"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from guanjia.appeals import attachments
        from guanjia.core import backup, home, workcalendar
        from guanjia.enterprises import signals
        from guanjia.enterprises.demo import demo_built
        from guanjia.enterprises.models import Enterprise
        from guanjia.visits import home as visits_home
        from guanjia.visits.demo import add_demo_visits
        from guanjia.visits.models import VisitPhoto

        home.register(visits_home.sections)
        post_save.connect(create_schedule, sender=Enterprise, dispatch_uid="guanjia-visits-schedule")
        signals.enterprises_changed.connect(recompute_changed, dispatch_uid="guanjia-visits-recompute")
        signals.steward_changed.connect(hand_over_plans, dispatch_uid="guanjia-visits-plan-handover")
        workcalendar.calendar_changed.connect(
            reschedule_after_calendar_change, dispatch_uid="guanjia-visits-calendar"
        )
        # Photos are stored with the appeals' attachments: kept by their orphan sweep, and in backups.
        attachments.register_key_holder(VisitPhoto)
        backup.register_file_column(
            VisitPhoto,
            "storage_key",
            area="attachments",
            relative_path=lambda key: (
                attachments.stored_path(key).relative_to(attachments.storage_root()).as_posix()
            ),
        )
        # After the appeals' demo hooks (apps are ready in INSTALLED_APPS order): visits raise appeals.
        demo_built.connect(add_demo_visits, dispatch_uid="guanjia-visits-demo")
