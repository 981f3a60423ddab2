"""Smart dispatch follows the appeals' lifecycle: it indexes each appeal as it arrives (similarity
bands, full-text search), each answer as it is given, and marks which suggestion a dispatch took."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from guanjia.appeals.signals import appeal_answered, appeal_dispatched, appeal_submitted
from guanjia.dispatch import routing, searching, similar


@receiver(appeal_submitted, dispatch_uid="guanjia-dispatch-submitted")
def _submitted(sender: Any, appeal: Any, **kwargs: Any) -> None:
    similar.remember(appeal)
    searching.index_appeal(appeal)


@receiver(appeal_dispatched, dispatch_uid="guanjia-dispatch-dispatched")
def _dispatched(sender: Any, appeal: Any, lead: Any, **kwargs: Any) -> None:
    routing.record_dispatch(appeal, lead.department_id, lead.dispatched_at)


@receiver(appeal_answered, dispatch_uid="guanjia-dispatch-answered")
def _answered(sender: Any, appeal: Any, assignment: Any, **kwargs: Any) -> None:
    searching.index_answer(assignment)
