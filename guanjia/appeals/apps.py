from typing import Any

from django.apps import AppConfig


def recompute_provisional_deadlines(sender: Any, years: frozenset[int], **kwargs: Any) -> None:
    """An admin entered a year's calendar: provisional deadlines of open work are computed again."""
    from guanjia.appeals.lifecycle import recompute_provisional

    recompute_provisional()  # the few provisional rows, whichever year they reach into


def rebuild_kpi_rollups(sender: Any, years: frozenset[int], **kwargs: Any) -> None:
    """Working days changed, so did handling days: the KPI rollups are counted again, by the worker."""
    from guanjia.appeals.tasks import rebuild_kpi_rollups as rebuild

    rebuild()


class AppealsConfig(AppConfig):
    name = "guanjia.appeals"
    label = "appeals"
    verbose_name = "诉求"

    def ready(self) -> None:
        from guanjia.appeals import home as appeals_home
        from guanjia.appeals.demo import add_demo_appeals, add_demo_routes
        from guanjia.core import home, workcalendar
        from guanjia.enterprises.demo import demo_built

        home.register(appeals_home.sections)
        # `guanjia backup` checks that every attachment its database copy names is in the archive.
        from guanjia.appeals import attachments
        from guanjia.appeals.models import Attachment
        from guanjia.core import backup

        backup.register_file_column(
            Attachment,
            "storage_key",
            area="attachments",
            relative_path=lambda key: (
                attachments.stored_path(key).relative_to(attachments.storage_root()).as_posix()
            ),
        )
        workcalendar.calendar_changed.connect(
            recompute_provisional_deadlines, dispatch_uid="guanjia-appeals-recompute-deadlines"
        )
        # After the deadlines above: the rebuild counts them as recomputed.
        workcalendar.calendar_changed.connect(rebuild_kpi_rollups, dispatch_uid="guanjia-appeals-kpi-rollups")

        # Routes first: the demo appeals are dispatched along them.
        demo_built.connect(add_demo_routes, dispatch_uid="guanjia-appeals-demo-routes")
        demo_built.connect(add_demo_appeals, dispatch_uid="guanjia-appeals-demo-appeals")
