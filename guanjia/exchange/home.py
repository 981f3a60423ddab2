"""What the exchange app puts on the home page (挂职结对): a seconded cadre's notes, activities and
leads; the practices of a supervisor's or leader's zones by stage; the cadres' leads waiting for a
promoter of the zone."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from guanjia.core.home import HomeSection, counts_section
from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.exchange.models import (
    EXCHANGE_READERS,
    Adoption,
    AdoptionStage,
    LearningNote,
    LiaisonActivity,
    SourcedLead,
    SourcedLeadStatus,
)


def sections(user: User) -> list[HomeSection]:
    if not user.is_authenticated or not user.is_active or user.is_admin_account:
        return []
    found: list[HomeSection] = []
    if user.has_role(Role.SECONDED_CADRE):
        found.append(_cadre_section(user))
    if user.has_any_role(EXCHANGE_READERS) and user.zone_ids():
        found.append(_practices_section(user))
    if user.has_role(Role.PROMOTER) and user.zone_ids():
        found.append(_promoter_section(user))
    return found


def _cadre_section(user: User) -> HomeSection:
    """Counts of what the cadre wrote for its own secondments (not its readers' view of others')."""
    leads = (
        SourcedLead.objects.visible_to(user)
        .filter(secondment__cadre=user)
        .aggregate(all=Count("pk"), taken=Count("pk", filter=Q(status=SourcedLeadStatus.TAKEN)))
    )
    return counts_section(
        _("我的挂职"),
        [
            (
                _("挂职见闻"),
                LearningNote.objects.visible_to(user).filter(secondment__cadre=user).count(),
                False,
            ),
            (
                _("对接活动"),
                LiaisonActivity.objects.visible_to(user).filter(secondment__cadre=user).count(),
                False,
            ),
            (_("推荐线索"), leads["all"], False),
            (_("已转招商线索"), leads["taken"], False),
        ],
        "exchange:mine",
        _("进入我的挂职"),
        order=15,
    )


def _practices_section(user: User) -> HomeSection:
    stages = (
        Adoption.objects.visible_to(user)
        .filter(practice__zone_id__in=user.zone_ids())
        .aggregate(
            reference=Count("pk", filter=Q(stage=AdoptionStage.REFERENCE)),
            trial=Count("pk", filter=Q(stage=AdoptionStage.TRIAL)),
            rollout=Count("pk", filter=Q(stage=AdoptionStage.ROLLOUT)),
        )
    )
    return counts_section(
        _("经验做法"),
        [
            (_("借鉴中"), stages["reference"], False),
            (_("试行中"), stages["trial"], False),
            (_("已推广"), stages["rollout"], False),
        ],
        "exchange:practices",
        _("查看经验做法与成效"),
        order=35,
    )


def _promoter_section(user: User) -> HomeSection:
    waiting = (
        SourcedLead.objects.visible_to(user)
        .filter(secondment__pairing__zone_id__in=user.zone_ids(), status=SourcedLeadStatus.SUBMITTED)
        .count()
    )
    return counts_section(
        _("挂职干部推荐线索"),
        [(_("待接收"), waiting, False)],
        "exchange:sourced-leads",
        _("查看推荐线索"),
        order=32,
    )
