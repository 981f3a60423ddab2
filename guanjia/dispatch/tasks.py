"""Scheduled smart-dispatch work: the nightly retraining of every zone's model and pruning of the
similarity bands, and the routing page's retrain button.

A task is a poke: each run writes its own RoutingModel row, and promotion is guarded by the partial
unique constraint one_active_routing_model, so a run repeated or overlapping does no harm.
"""

from __future__ import annotations

import logging

from django.db.models import Count
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanjia.appeals.models import Assignment
from guanjia.core.models import OrgUnit, User
from guanjia.dispatch import routing, similar

logger = logging.getLogger(__name__)


def zones_with_history() -> list[OrgUnit]:
    """Zones with enough answered appeals to train on: the others keep their keyword rules, and a
    nightly "too little history" row for each would only bury the routing page's real runs."""
    counts = (
        Assignment.objects.filter(is_lead=True, answered_at__isnull=False)
        .values("appeal__zone_id")
        .annotate(appeals=Count("appeal_id", distinct=True))
        .filter(appeals__gte=routing.MIN_HISTORY)
        .values_list("appeal__zone_id", flat=True)
    )
    return list(OrgUnit.objects.filter(kind=OrgUnit.Kind.ZONE, pk__in=list(counts)).order_by("code"))


@db_periodic_task(crontab(hour="2", minute="30"))
def retrain_routing_models() -> int:
    """Every night at 02:30 Beijing time: retrain each zone with history; returns how many were promoted."""
    promoted = 0
    for zone in zones_with_history():
        # One zone's failure (a broken text, memory) must not cost the other zones their retraining.
        try:
            promoted += routing.retrain(zone).is_active
        except Exception:
            logger.exception("retraining the routing model of zone %s failed", zone.pk)
    return promoted


@db_periodic_task(crontab(hour="3", minute="10"))
def prune_similarity_bands() -> int:
    """Every night at 03:10 Beijing time: drop the bands of appeals no lookup can list any more."""
    return similar.prune()


@db_task()
def retrain_zone(zone_id: int, user_id: int | None = None) -> int | None:
    """The routing page's "retrain now" (its view checked the right; retrain() checks it again)."""
    zone = OrgUnit.objects.filter(pk=zone_id, kind=OrgUnit.Kind.ZONE).first()
    if zone is None:
        return None
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    return routing.retrain(zone, by=user).pk
