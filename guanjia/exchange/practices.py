"""Writes and reads of practices (经验做法) and their adoptions (经验采纳).

A practice is what was learned from a partner: what, where it was seen, by whom, and, when a seconded
cadre brought it back, from which secondment. The zone's supervisors (效能督查) record and change
practices; the cadre proposes and changes the practices of its own secondment.

An adoption is a local unit — the practice's zone, or one of its departments — taking the practice up
through the stages 借鉴 → 试行 → 推广, one step at a time, each with its date. Its effect is measured by a
KPI of the platform in the quarters before and after the trial (guanjia.exchange.effects). Only the
zone's supervisors record and advance adoptions.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from guanjia.appeals.kpi import KPIS
from guanjia.core import audit
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.exchange.access import check_keeper, is_own_secondment, may_keep, today
from guanjia.exchange.effects import Effect
from guanjia.exchange.effects import effect as measure
from guanjia.exchange.models import Adoption, AdoptionStage, Practice, Secondment

TITLE_MAX = 100
SEEN_AT_MAX = 100
LEARNED_BY_MAX = 50

# The only moves of an adoption: one step forward. Nothing goes back, nothing is skipped.
NEXT_STAGE: dict[str, str] = {
    AdoptionStage.REFERENCE: AdoptionStage.TRIAL,
    AdoptionStage.TRIAL: AdoptionStage.ROLLOUT,
}
# The date column each stage is reached on.
STAGE_DATE: dict[str, str] = {
    AdoptionStage.REFERENCE: "referenced_on",
    AdoptionStage.TRIAL: "trial_on",
    AdoptionStage.ROLLOUT: "rollout_on",
}
STAGE_RANK: dict[str, int] = {AdoptionStage.REFERENCE: 1, AdoptionStage.TRIAL: 2, AdoptionStage.ROLLOUT: 3}
NOT_ADOPTED = "none"  # a practice no unit has taken up yet (the list's fourth group)


class _Unset(enum.Enum):
    KEEP = 0


KEEP = _Unset.KEEP  # update_practice: the field was not given, keep what the practice has


# --- who may ------------------------------------------------------------------------------------------


def may_keep_practice(user: User, practice: Practice) -> bool:
    """The supervisors of the practice's zone record its adoptions (and change it)."""
    return may_keep(user, practice.zone_id)


def may_edit_practice(user: User, practice: Practice) -> bool:
    """The zone's supervisors, or the cadre of the secondment the practice came from."""
    if may_keep_practice(user, practice):
        return True
    secondment = practice.secondment
    return secondment is not None and is_own_secondment(user, secondment)


def may_propose(user: User) -> bool:
    """Who may open the new-practice page: a supervisor with a zone, or a seconded cadre."""
    return may_keep(user) or (
        user.is_authenticated
        and user.is_active
        and not user.is_admin_account
        and user.has_role(Role.SECONDED_CADRE)
    )


def secondments_for(user: User) -> QuerySet[Secondment]:
    """The secondments a practice of `user` may come from: a supervisor's zones', a cadre's own."""
    found = Secondment.objects.visible_to(user).select_related("pairing", "cadre")
    if not may_keep(user):
        found = found.filter(cadre=user)
    return found.order_by("-starts_on", "pk")


def adopting_units(practice: Practice) -> QuerySet[OrgUnit]:
    """The units that may adopt a practice: its zone and the zone's departments (zone first)."""
    return OrgUnit.objects.filter(
        Q(pk=practice.zone_id) | Q(parent_id=practice.zone_id, kind=OrgUnit.Kind.DEPARTMENT)
    ).order_by("kind", "code")


def next_stage(adoption: Adoption) -> str | None:
    return NEXT_STAGE.get(adoption.stage)


def stage_date(adoption: Adoption, stage: str) -> date | None:
    return getattr(adoption, STAGE_DATE[stage])


def _rank() -> Case:
    return Case(
        *(When(stage=stage, then=Value(value)) for stage, value in STAGE_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


def _furthest() -> Coalesce:
    """The rank of a practice's furthest adoption: 0 none, 1 借鉴, 2 试行, 3 推广."""
    ranks = Adoption.objects.filter(practice=OuterRef("pk")).annotate(rank=_rank()).order_by("-rank")
    return Coalesce(Subquery(ranks.values("rank")[:1]), Value(0), output_field=IntegerField())


def with_stage_counts(practices: QuerySet[Practice]) -> QuerySet[Practice]:
    """Each practice with its adoptions counted per stage (n_reference, n_trial, n_rollout) and the rank
    of its furthest stage (furthest)."""
    return practices.annotate(
        n_reference=Count("adoptions", filter=Q(adoptions__stage=AdoptionStage.REFERENCE)),
        n_trial=Count("adoptions", filter=Q(adoptions__stage=AdoptionStage.TRIAL)),
        n_rollout=Count("adoptions", filter=Q(adoptions__stage=AdoptionStage.ROLLOUT)),
        furthest=_furthest(),
    )


def furthest_counts(practices: QuerySet[Practice]) -> dict[str, int]:
    """How many of `practices` got furthest to each stage, and how many no unit adopted (NOT_ADOPTED)."""
    counts = {NOT_ADOPTED: 0, **dict.fromkeys(AdoptionStage.values, 0)}
    by_rank = {value: stage for stage, value in STAGE_RANK.items()}
    grouped = practices.order_by().annotate(furthest=_furthest()).values("furthest").annotate(n=Count("pk"))
    for row in grouped:
        counts[by_rank.get(row["furthest"], NOT_ADOPTED)] += row["n"]
    return counts


def filter_furthest(practices: QuerySet[Practice], stage: str) -> QuerySet[Practice]:
    """The practices whose furthest adoption is at `stage` (NOT_ADOPTED: without any adoption)."""
    return practices.alias(furthest_rank=_furthest()).filter(furthest_rank=STAGE_RANK.get(stage, 0))


# --- checks ---------------------------------------------------------------------------------------------


def _clean_text(
    value: str | None, *, label: str, max_length: int | None = None, required: bool = True
) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ServiceError(_("%(label)s：请填写") % {"label": label})
    if max_length is not None and len(text) > max_length:
        raise ServiceError(_("%(label)s：不能超过 %(max)d 个字") % {"label": label, "max": max_length})
    return text


def _clean_day(value: date, *, label: str, not_before: date | None = None, before_label: str = "") -> date:
    if not isinstance(value, date):
        raise ServiceError(_("%(label)s：请填写日期") % {"label": label})
    now = today()
    if value > now:
        raise ServiceError(
            _("%(label)s：不能晚于今天（%(today)s）") % {"label": label, "today": now.isoformat()}
        )
    if not_before is not None and value < not_before:
        raise ServiceError(
            _("%(label)s：不能早于%(before)s（%(day)s）")
            % {"label": label, "before": before_label, "day": not_before.isoformat()}
        )
    return value


def _clean_kpi(code: str) -> str:
    if code not in KPIS:
        raise ServiceError(_("效果指标：无效的指标“%(kpi)s”") % {"kpi": code})
    return code


def _clean_secondment(secondment: Secondment | None, *, zone_id: int) -> Secondment | None:
    if secondment is not None and secondment.pairing.zone_id != zone_id:
        raise ServiceError(_("来自挂职：“%(secondment)s”不是本园区的挂职") % {"secondment": secondment})
    return secondment


def _bump(model: type[Practice] | type[Adoption], obj: Any, version: int, what: str, **values: Any) -> None:
    """Write `values` if nobody changed the row since `version` was read. Inside a transaction."""
    changed = model.objects.filter(pk=obj.pk, version=version).update(**values, version=version + 1)
    if changed != 1:
        raise Conflict(_("“%(what)s”刚被他人修改，请刷新后重试") % {"what": what})
    for name, value in values.items():
        setattr(obj, name, value)
    obj.version = version + 1


# --- practices --------------------------------------------------------------------------------------------


def create_practice(
    *,
    by: User,
    title: str,
    description: str,
    seen_at: str = "",
    learned_by: str = "",
    secondment: Secondment | None = None,
    zone: OrgUnit | None = None,
) -> Practice:
    """A supervisor records a practice of its zone; a cadre proposes one from its own secondment.

    From a secondment, the zone is the pairing's, and where it was seen and by whom default to the
    secondment's host unit and cadre (entered once, reused).
    """
    if secondment is not None:
        zone_id = secondment.pairing.zone_id
        if zone is not None and zone.pk != zone_id:
            raise ServiceError(_("来自挂职：该挂职不属于所选园区"))
        if not (may_keep(by, zone_id) or is_own_secondment(by, secondment)):
            raise NotAllowed(_("只有本园区的效能督查人员或该挂职干部本人可以记录来自该挂职的经验做法"))
    else:
        if zone is None:
            if by.has_role(Role.SECONDED_CADRE) and not may_keep(by):
                raise ServiceError(_("来自挂职：请选择您的挂职"))
            raise ServiceError(_("所属园区：请选择"))
        zone_id = zone.pk
        if not may_keep(by, zone_id):
            if by.has_role(Role.SECONDED_CADRE):
                raise NotAllowed(_("挂职干部只能记录来自本人挂职的经验做法"))
            check_keeper(by, zone_id)
    title = _clean_text(title, label=_("经验做法"), max_length=TITLE_MAX)
    description = _clean_text(description, label=_("做法内容"))
    seen_at = _clean_text(
        seen_at or (secondment.host_unit if secondment else ""), label=_("学习地点"), max_length=SEEN_AT_MAX
    )
    learned_by = _clean_text(
        learned_by or (str(secondment.cadre) if secondment else ""),
        label=_("学习人"),
        max_length=LEARNED_BY_MAX,
    )
    with transaction.atomic():
        practice = Practice.objects.create(
            zone_id=zone_id,
            title=title,
            description=description,
            seen_at=seen_at,
            learned_by=learned_by,
            secondment=secondment,
            created_by=by,
        )
        audit.record(
            by,
            "exchange.practice_create",
            practice,
            summary=f"记录经验做法：{title}",
            detail={"zone": zone_id, "secondment": secondment.pk if secondment else None},
        )
    return practice


def update_practice(
    practice: Practice,
    *,
    by: User,
    version: int,
    title: str | _Unset = KEEP,
    description: str | _Unset = KEEP,
    seen_at: str | _Unset = KEEP,
    learned_by: str | _Unset = KEEP,
    secondment: Secondment | None | _Unset = KEEP,
) -> Practice:
    """Change what was given; a stale `version` loses (Conflict). Which secondment it came from is the
    supervisors' to change; the cadre changes the rest of its own practice."""
    if not may_edit_practice(by, practice):
        raise NotAllowed(_("只有本园区的效能督查人员或该挂职干部本人可以修改此经验做法"))
    values: dict[str, Any] = {}
    if not isinstance(title, _Unset):
        values["title"] = _clean_text(title, label=_("经验做法"), max_length=TITLE_MAX)
    if not isinstance(description, _Unset):
        values["description"] = _clean_text(description, label=_("做法内容"))
    if not isinstance(seen_at, _Unset):
        values["seen_at"] = _clean_text(seen_at, label=_("学习地点"), max_length=SEEN_AT_MAX)
    if not isinstance(learned_by, _Unset):
        values["learned_by"] = _clean_text(learned_by, label=_("学习人"), max_length=LEARNED_BY_MAX)
    if not isinstance(secondment, _Unset) and secondment != practice.secondment:
        if not may_keep_practice(by, practice):
            raise NotAllowed(_("来自挂职：只有本园区的效能督查人员可以更改"))
        values["secondment"] = _clean_secondment(secondment, zone_id=practice.zone_id)
    with transaction.atomic():
        _bump(Practice, practice, version, practice.title, **values)
        audit.record(
            by,
            "exchange.practice_update",
            practice,
            summary=f"修改经验做法：{practice.title}",
            detail={key: (value.pk if hasattr(value, "pk") else value) for key, value in values.items()},
        )
    return practice


# --- adoptions ----------------------------------------------------------------------------------------------


def add_adoption(
    practice: Practice,
    *,
    unit: OrgUnit,
    kpi: str,
    referenced_on: date,
    by: User,
    note: str = "",
) -> Adoption:
    """A unit of the practice's zone takes it up (借鉴) on `referenced_on`; `kpi` will measure its effect."""
    check_keeper(by, practice.zone_id)
    if not adopting_units(practice).filter(pk=unit.pk).exists():
        raise ServiceError(_("采纳单位：“%(unit)s”不是本园区或本园区的部门") % {"unit": unit})
    kpi = _clean_kpi(kpi)
    referenced_on = _clean_day(referenced_on, label=_("借鉴日期"))
    note = (note or "").strip()
    taken = _("采纳单位：“%(unit)s”已在采纳此经验做法") % {"unit": unit}
    if Adoption.objects.filter(practice=practice, unit=unit).exists():
        raise ServiceError(taken)
    try:
        with transaction.atomic():
            adoption = Adoption.objects.create(
                practice=practice,
                unit=unit,
                stage=AdoptionStage.REFERENCE,
                referenced_on=referenced_on,
                kpi=kpi,
                note=note,
                created_by=by,
            )
            audit.record(
                by,
                "exchange.adoption_create",
                adoption,
                summary=f"{unit} 借鉴经验做法“{practice.title}”",
                detail={
                    "practice": practice.pk,
                    "unit": unit.pk,
                    "kpi": kpi,
                    "referenced_on": referenced_on.isoformat(),
                },
            )
    except IntegrityError as exc:
        # Two keepers adding the same unit at once: the unique constraint lets one in.
        raise Conflict(taken) from exc
    return adoption


def advance(adoption: Adoption, *, to_stage: str, on: date, by: User, version: int) -> Adoption:
    """Move the adoption one stage forward (借鉴 → 试行 → 推广) on `on`: not before the stage it leaves was
    reached, not in the future."""
    check_keeper(by, adoption.practice.zone_id)
    if to_stage not in AdoptionStage.values:
        raise ServiceError(_("阶段：无效的阶段“%(stage)s”") % {"stage": to_stage})
    wanted = NEXT_STAGE.get(adoption.stage)
    if to_stage != wanted:
        current = AdoptionStage(adoption.stage).label
        if wanted is None:
            raise ServiceError(_("阶段：已是“%(current)s”，不能再改变") % {"current": current})
        raise ServiceError(
            _("阶段：当前为“%(current)s”，只能进入“%(next)s”，不能改为“%(wanted)s”")
            % {
                "current": current,
                "next": AdoptionStage(wanted).label,
                "wanted": AdoptionStage(to_stage).label,
            }
        )
    previous = stage_date(adoption, adoption.stage)
    label = _("%(stage)s日期") % {"stage": AdoptionStage(to_stage).label}
    on = _clean_day(
        on,
        label=label,
        not_before=previous,
        before_label=_("%(stage)s日期") % {"stage": AdoptionStage(adoption.stage).label},
    )
    from_stage = adoption.stage
    with transaction.atomic():
        # The stage is part of the guard: a move is only ever from the stage the page showed.
        moved = Adoption.objects.filter(pk=adoption.pk, version=version, stage=from_stage).update(
            stage=to_stage, **{STAGE_DATE[to_stage]: on}, version=version + 1
        )
        if moved != 1:
            raise Conflict(_("该采纳记录刚被他人修改，请刷新后重试"))
        adoption.stage = to_stage
        setattr(adoption, STAGE_DATE[to_stage], on)
        adoption.version = version + 1
        audit.record(
            by,
            "exchange.adoption_advance",
            adoption,
            summary=(
                f"{adoption.unit} 采纳“{adoption.practice.title}”："
                f"{AdoptionStage(from_stage).label} → {AdoptionStage(to_stage).label}（{on.isoformat()}）"
            ),
            detail={"from": from_stage, "to": to_stage, "on": on.isoformat()},
        )
    return adoption


def effect(adoption: Adoption, quarters: int = 2, *, on: date | None = None) -> Effect:
    """The adoption's KPI in `quarters` quarters before and after its trial (guanjia.exchange.effects)."""
    return measure(adoption, quarters, today=on)
