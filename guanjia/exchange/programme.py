"""Writes and reads of the exchange programme (挂职结对): pairings, secondments, and what a seconded cadre
records of its secondment — learning notes (见闻) and liaison activities (对接活动).

A zone's supervisors keep its pairings and secondments; its leaders read them; the cadre of a secondment
writes its notes and activities (access.py). Sourced leads are in sourcing.py.

Every write of a row is guarded by its version (optimistic lock): a stale version loses (Conflict).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.exchange.access import check_cadre, check_keeper, today
from guanjia.exchange.models import (
    LearningNote,
    LiaisonActivity,
    Pairing,
    Practice,
    Secondment,
    SecondmentKind,
    SourcedLead,
)

# Field lengths (the models' max_length), for the forms and the API.
PARTNER_UNIT_MAX = 100
PARTNER_CITY_MAX = 50
PARTNER_PROVINCE_MAX = 20
HOST_UNIT_MAX = 100
POST_MAX = 100
TITLE_MAX = 100
PLACE_MAX = 100
PARTICIPANTS_MAX = 300
LONG_TEXT_MAX = 5000

PAIRING_FIELDS = (
    "local_unit",
    "partner_unit",
    "partner_city",
    "partner_province",
    "started_on",
    "ended_on",
    "focus",
)
SECONDMENT_FIELDS = ("cadre", "host_unit", "post", "kind", "starts_on", "ends_on", "tasks")
NOTE_FIELDS = ("title", "body", "observed_on")
ACTIVITY_FIELDS = ("title", "held_on", "place", "participants", "outcome")


class _Unset(enum.Enum):
    KEEP = 0


KEEP = _Unset.KEEP


# --- who is who ---------------------------------------------------------------------------------------


def local_units(zone_ids: Iterable[int]) -> QuerySet[OrgUnit]:
    """The units of the zones that may pair: each zone itself and its departments."""
    ids = list(zone_ids)
    return OrgUnit.objects.filter(
        Q(pk__in=ids, kind=OrgUnit.Kind.ZONE) | Q(parent_id__in=ids, kind=OrgUnit.Kind.DEPARTMENT)
    ).order_by("code")


def cadres_of_zones(zone_ids: Iterable[int]) -> QuerySet[User]:
    """The active seconded cadres who work in the zones (in one or in one of its departments)."""
    ids = list(zone_ids)
    return (
        User.objects.with_role(Role.SECONDED_CADRE)
        .filter(Q(unit_id__in=ids) | Q(unit__parent_id__in=ids, unit__kind=OrgUnit.Kind.DEPARTMENT))
        .order_by("full_name", "pk")
        .distinct()
    )


def keeper_zones(user: User) -> QuerySet[OrgUnit]:
    """The zones whose programme `user` keeps (a supervisor's zones), in code order."""
    if not user.has_role(Role.SUPERVISOR):
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(pk__in=user.zone_ids(), kind=OrgUnit.Kind.ZONE).order_by("code")


# --- checks -----------------------------------------------------------------------------------------


def _text(value: Any, *, label: str, max_length: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ServiceError(_("%(label)s：请填写") % {"label": label})
    if len(text) > max_length:
        raise ServiceError(_("%(label)s：不能超过 %(max)d 个字") % {"label": label, "max": max_length})
    return text


def _date(value: Any, *, label: str, required: bool = True) -> date | None:
    if value is None or value == "":
        if required:
            raise ServiceError(_("%(label)s：请填写") % {"label": label})
        return None
    if not isinstance(value, date):
        raise ServiceError(_("%(label)s：日期格式不正确") % {"label": label})
    return value


def _not_after_today(day: date, *, label: str) -> date:
    if day > today():
        raise ServiceError(
            _("%(label)s：不能晚于今天（%(today)s）") % {"label": label, "today": today().isoformat()}
        )
    return day


def _clean_local_unit(unit: OrgUnit, zone_id: int) -> OrgUnit:
    if not local_units([zone_id]).filter(pk=unit.pk).exists():
        raise ServiceError(_("本地单位：“%(unit)s”不是本园区或本园区的部门") % {"unit": unit})
    return unit


def _clean_pairing(values: Mapping[str, Any], *, zone_id: int) -> dict[str, Any]:
    clean: dict[str, Any] = {
        "local_unit": _clean_local_unit(values["local_unit"], zone_id),
        "partner_unit": _text(
            values["partner_unit"], label=_("结对单位"), max_length=PARTNER_UNIT_MAX, required=True
        ),
        "partner_city": _text(
            values["partner_city"], label=_("所在城市"), max_length=PARTNER_CITY_MAX, required=True
        ),
        "partner_province": _text(
            values["partner_province"], label=_("所在省份"), max_length=PARTNER_PROVINCE_MAX, required=True
        ),
        "started_on": _date(values["started_on"], label=_("结对日期")),
        "ended_on": _date(values["ended_on"], label=_("结束日期"), required=False),
        "focus": _text(values["focus"], label=_("合作重点"), max_length=LONG_TEXT_MAX),
    }
    if clean["ended_on"] is not None and clean["ended_on"] < clean["started_on"]:
        raise ServiceError(_("结束日期：不能早于结对日期"))
    return clean


def _pairing_taken(local_unit: OrgUnit, partner_unit: str, exclude: int | None) -> ServiceError | None:
    others = Pairing.objects.filter(local_unit=local_unit, partner_unit=partner_unit).exclude(pk=exclude or 0)
    if others.exists():
        return ServiceError(
            _("结对单位：“%(unit)s”已与“%(partner)s”结对") % {"unit": local_unit, "partner": partner_unit}
        )
    return None


def _detail(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as an audit record keeps them: objects by id, dates as text."""
    shown: dict[str, Any] = {}
    for name, value in values.items():
        if hasattr(value, "pk"):
            shown[name] = value.pk
        elif isinstance(value, date):
            shown[name] = value.isoformat()
        else:
            shown[name] = value
    return shown


# --- pairings ---------------------------------------------------------------------------------------


def create_pairing(
    *,
    local_unit: OrgUnit,
    by: User,
    partner_unit: str,
    partner_city: str,
    partner_province: str,
    started_on: date,
    ended_on: date | None = None,
    focus: str = "",
) -> Pairing:
    """A supervisor pairs its zone (or one of its departments) with a partner unit elsewhere."""
    zone = local_unit.zone
    if zone is None:
        raise ServiceError(_("本地单位：“%(unit)s”不属于任何园区") % {"unit": local_unit})
    check_keeper(by, zone.pk)
    clean = _clean_pairing(
        {
            "local_unit": local_unit,
            "partner_unit": partner_unit,
            "partner_city": partner_city,
            "partner_province": partner_province,
            "started_on": started_on,
            "ended_on": ended_on,
            "focus": focus,
        },
        zone_id=zone.pk,
    )
    taken = _pairing_taken(clean["local_unit"], clean["partner_unit"], None)
    if taken is not None:
        raise taken
    try:
        with transaction.atomic():
            pairing = Pairing.objects.create(zone=zone, created_by=by, **clean)
            audit.record(
                by,
                "exchange.pairing_create",
                pairing,
                summary=_("新建结对：%(unit)s ↔ %(partner)s")
                % {"unit": clean["local_unit"], "partner": clean["partner_unit"]},
                detail=_detail({"zone": zone, **clean}),
            )
    except IntegrityError:
        raise _pairing_taken(clean["local_unit"], clean["partner_unit"], None) or Conflict(
            _("结对关系刚被他人修改，请刷新后重试")
        ) from None
    return pairing


def update_pairing(pairing: Pairing, *, by: User, version: int, **changes: Any) -> Pairing:
    """Change the fields given (PAIRING_FIELDS); a stale `version` loses (Conflict). The zone stays."""
    check_keeper(by, pairing.zone_id)
    unknown = set(changes) - set(PAIRING_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    current = {name: getattr(pairing, name) for name in PAIRING_FIELDS}
    clean = _clean_pairing({**current, **changes}, zone_id=pairing.zone_id)
    taken = _pairing_taken(clean["local_unit"], clean["partner_unit"], pairing.pk)
    if taken is not None:
        raise taken
    diff = {name: value for name, value in clean.items() if current[name] != value}
    try:
        with transaction.atomic():
            moved = Pairing.objects.filter(pk=pairing.pk, version=version).update(
                **clean, version=version + 1
            )
            if moved != 1:
                raise Conflict(_("结对关系“%(pairing)s”刚被他人修改，请刷新后重试") % {"pairing": pairing})
            audit.record(
                by,
                "exchange.pairing_update",
                pairing,
                summary=_("修改结对：%(unit)s ↔ %(partner)s")
                % {"unit": clean["local_unit"], "partner": clean["partner_unit"]},
                detail=_detail(diff),
            )
    except IntegrityError:
        raise _pairing_taken(clean["local_unit"], clean["partner_unit"], pairing.pk) or Conflict(
            _("结对关系刚被他人修改，请刷新后重试")
        ) from None
    for name, value in clean.items():
        setattr(pairing, name, value)
    pairing.version = version + 1
    return pairing


# --- secondments ------------------------------------------------------------------------------------


def _clean_secondment(
    values: Mapping[str, Any], *, pairing: Pairing, exclude: int | None = None
) -> dict[str, Any]:
    cadre = values["cadre"]
    if cadre is None or not cadres_of_zones([pairing.zone_id]).filter(pk=cadre.pk).exists():
        raise ServiceError(
            _("挂职干部：“%(cadre)s”不是本园区在岗的挂职干部（须持有挂职干部角色）") % {"cadre": cadre or "—"}
        )
    kind = str(values["kind"] or "")
    if kind not in SecondmentKind.values:
        raise ServiceError(_("类型：请选择挂职或跟班学习"))
    clean: dict[str, Any] = {
        "cadre": cadre,
        "host_unit": _text(values["host_unit"], label=_("挂职单位"), max_length=HOST_UNIT_MAX, required=True),
        "post": _text(values["post"], label=_("挂职岗位"), max_length=POST_MAX, required=True),
        "kind": kind,
        "starts_on": _date(values["starts_on"], label=_("开始日期")),
        "ends_on": _date(values["ends_on"], label=_("结束日期")),
        "tasks": _text(values["tasks"], label=_("任务"), max_length=LONG_TEXT_MAX),
    }
    starts, ends = clean["starts_on"], clean["ends_on"]
    if ends < starts:
        raise ServiceError(_("结束日期：不能早于开始日期"))
    if starts < pairing.started_on:
        raise ServiceError(
            _("开始日期：不能早于结对日期（%(day)s）") % {"day": pairing.started_on.isoformat()}
        )
    if pairing.ended_on is not None and starts > pairing.ended_on:
        raise ServiceError(_("开始日期：结对已于 %(day)s 结束") % {"day": pairing.ended_on.isoformat()})
    overlapping = (
        Secondment.objects.filter(cadre=cadre, starts_on__lte=ends, ends_on__gte=starts)
        .exclude(pk=exclude or 0)
        .order_by("starts_on")
        .first()
    )
    if overlapping is not None:
        raise ServiceError(
            _("开始日期：%(cadre)s 在 %(start)s 至 %(end)s 已在“%(host)s”挂职，时间不能重叠")
            % {
                "cadre": cadre,
                "start": overlapping.starts_on.isoformat(),
                "end": overlapping.ends_on.isoformat(),
                "host": overlapping.host_unit,
            }
        )
    return clean


def has_records(secondment: Secondment) -> bool:
    """Whether the cadre has written anything on the secondment (its cadre then stays)."""
    return (
        LearningNote.objects.filter(secondment=secondment).exists()
        or LiaisonActivity.objects.filter(secondment=secondment).exists()
        or SourcedLead.objects.filter(secondment=secondment).exists()
        or Practice.objects.filter(secondment=secondment).exists()
    )


def create_secondment(
    *,
    pairing: Pairing,
    cadre: User,
    by: User,
    host_unit: str,
    post: str,
    starts_on: date,
    ends_on: date,
    kind: str = SecondmentKind.POSTED,
    tasks: str = "",
) -> Secondment:
    """A supervisor seconds a cadre of its zone to the partner unit of a pairing for a period."""
    check_keeper(by, pairing.zone_id)
    values = {
        "cadre": cadre,
        "host_unit": host_unit,
        "post": post,
        "kind": kind,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "tasks": tasks,
    }
    with transaction.atomic():
        # Checked inside the transaction: the overlap check reads the cadre's other secondments.
        clean = _clean_secondment(values, pairing=pairing)
        secondment = Secondment.objects.create(pairing=pairing, created_by=by, **clean)
        audit.record(
            by,
            "exchange.secondment_create",
            secondment,
            summary=_("%(cadre)s 到“%(host)s”%(kind)s")
            % {"cadre": cadre, "host": clean["host_unit"], "kind": SecondmentKind(clean["kind"]).label},
            detail=_detail({"pairing": pairing, **clean}),
        )
    return secondment


def update_secondment(secondment: Secondment, *, by: User, version: int, **changes: Any) -> Secondment:
    """Change the fields given (SECONDMENT_FIELDS); the cadre changes only while nothing is recorded."""
    pairing = secondment.pairing
    check_keeper(by, pairing.zone_id)
    unknown = set(changes) - set(SECONDMENT_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    current = {name: getattr(secondment, name) for name in SECONDMENT_FIELDS}
    with transaction.atomic():
        clean = _clean_secondment({**current, **changes}, pairing=pairing, exclude=secondment.pk)
        if clean["cadre"].pk != secondment.cadre_id and has_records(secondment):
            raise ServiceError(
                _("挂职干部：%(cadre)s 已在本次挂职中填写了见闻、活动、线索或经验做法，不能更换挂职干部")
                % {"cadre": secondment.cadre}
            )
        diff = {name: value for name, value in clean.items() if current[name] != value}
        moved = Secondment.objects.filter(pk=secondment.pk, version=version).update(
            **clean, version=version + 1
        )
        if moved != 1:
            raise Conflict(_("挂职“%(secondment)s”刚被他人修改，请刷新后重试") % {"secondment": secondment})
        audit.record(
            by,
            "exchange.secondment_update",
            secondment,
            summary=_("修改挂职：%(cadre)s @ %(host)s")
            % {"cadre": clean["cadre"], "host": clean["host_unit"]},
            detail=_detail(diff),
        )
    for name, value in clean.items():
        setattr(secondment, name, value)
    secondment.version = version + 1
    return secondment


# --- a cadre's rows: learning notes and liaison activities -------------------------------------------


def _within_secondment(day: date, secondment: Secondment, *, label: str) -> date:
    if day < secondment.starts_on or day > secondment.ends_on:
        raise ServiceError(
            _("%(label)s：应在挂职期间（%(start)s 至 %(end)s）")
            % {
                "label": label,
                "start": secondment.starts_on.isoformat(),
                "end": secondment.ends_on.isoformat(),
            }
        )
    return _not_after_today(day, label=label)


def _clean_note(values: Mapping[str, Any], secondment: Secondment) -> dict[str, Any]:
    observed = _date(values["observed_on"], label=_("日期"))
    assert observed is not None
    return {
        "title": _text(values["title"], label=_("标题"), max_length=TITLE_MAX, required=True),
        "body": _text(values["body"], label=_("内容"), max_length=LONG_TEXT_MAX, required=True),
        "observed_on": _within_secondment(observed, secondment, label=_("日期")),
    }


def _clean_activity(values: Mapping[str, Any], secondment: Secondment) -> dict[str, Any]:
    held = _date(values["held_on"], label=_("活动日期"))
    assert held is not None
    return {
        "title": _text(values["title"], label=_("活动名称"), max_length=TITLE_MAX, required=True),
        "held_on": _within_secondment(held, secondment, label=_("活动日期")),
        "place": _text(values["place"], label=_("地点"), max_length=PLACE_MAX),
        "participants": _text(values["participants"], label=_("参加单位"), max_length=PARTICIPANTS_MAX),
        "outcome": _text(values["outcome"], label=_("成效"), max_length=LONG_TEXT_MAX),
    }


@dataclass(frozen=True)
class _RowKind:
    model: type[LearningNote] | type[LiaisonActivity]
    fields: tuple[str, ...]
    what: str  # the row's name in messages and audit summaries
    verb: str  # the audit action's stem


def _kind_of(row: LearningNote | LiaisonActivity) -> _RowKind:
    if isinstance(row, LearningNote):
        return _RowKind(LearningNote, NOTE_FIELDS, _("见闻"), "exchange.note")
    return _RowKind(LiaisonActivity, ACTIVITY_FIELDS, _("对接活动"), "exchange.activity")


def _change_row(
    row: LearningNote | LiaisonActivity, *, by: User, version: int | None, clean: dict[str, Any]
) -> None:
    """Write `clean` if the row still has the version read (None: the one `row` was read with).
    In a transaction."""
    kind = _kind_of(row)
    given = row.version if version is None else version
    as_read = {name: getattr(row, name) for name in kind.fields}
    moved = kind.model.objects.filter(pk=row.pk, version=given).update(**clean, version=F("version") + 1)
    if moved != 1:
        raise Conflict(
            _("%(what)s“%(title)s”刚被修改或删除，请刷新后重试") % {"what": kind.what, "title": row.title}
        )
    diff = {name: value for name, value in clean.items() if as_read[name] != value}
    audit.record(
        by,
        f"{kind.verb}_update",
        row,
        summary=_("修改%(what)s：%(title)s") % {"what": kind.what, "title": clean["title"]},
        detail=_detail({"secondment": row.secondment_id, **diff}),
    )
    for name, value in clean.items():
        setattr(row, name, value)
    row.version = given + 1


def _delete_row(row: LearningNote | LiaisonActivity, *, by: User, version: int | None) -> None:
    """Remove the row if it still has the version read (None: the one `row` was read with)."""
    kind = _kind_of(row)
    check_cadre(by, row.secondment)
    given = row.version if version is None else version
    pk, title = row.pk, row.title
    with transaction.atomic():
        removed, _kinds = kind.model.objects.filter(pk=pk, version=given).delete()
        if removed != 1:
            if kind.model.objects.filter(pk=pk).exists():
                raise Conflict(
                    _("%(what)s“%(title)s”刚被修改，请刷新后重试") % {"what": kind.what, "title": title}
                )
            raise Conflict(
                _("%(what)s“%(title)s”已被删除，请刷新后重试") % {"what": kind.what, "title": title}
            )
        audit.record(
            by,
            f"{kind.verb}_delete",
            object_type=kind.model._meta.label_lower,
            object_id=str(pk),
            summary=_("删除%(what)s：%(title)s") % {"what": kind.what, "title": title},
            detail={"secondment": row.secondment_id, "title": title},
        )


def add_note(secondment: Secondment, *, by: User, title: str, body: str, observed_on: date) -> LearningNote:
    """The cadre records what it saw or learned at the host unit (见闻)."""
    check_cadre(by, secondment)
    clean = _clean_note({"title": title, "body": body, "observed_on": observed_on}, secondment)
    with transaction.atomic():
        note = LearningNote.objects.create(secondment=secondment, **clean)
        audit.record(
            by,
            "exchange.note_create",
            note,
            summary=_("添加见闻：%(title)s") % {"title": clean["title"]},
            detail=_detail({"secondment": secondment, "observed_on": clean["observed_on"]}),
        )
    return note


def update_note(note: LearningNote, *, by: User, version: int | None = None, **changes: Any) -> LearningNote:
    """Change the fields given (NOTE_FIELDS); `version` is the one the editor read (stale: Conflict)."""
    check_cadre(by, note.secondment)
    unknown = set(changes) - set(NOTE_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    current = {name: getattr(note, name) for name in NOTE_FIELDS}
    clean = _clean_note({**current, **changes}, note.secondment)
    with transaction.atomic():
        _change_row(note, by=by, version=version, clean=clean)
    return note


def delete_note(note: LearningNote, *, by: User, version: int | None = None) -> None:
    """The cadre removes one of its notes; a stale `version` loses (Conflict)."""
    _delete_row(note, by=by, version=version)


def add_activity(
    secondment: Secondment,
    *,
    by: User,
    title: str,
    held_on: date,
    place: str = "",
    participants: str = "",
    outcome: str = "",
) -> LiaisonActivity:
    """The cadre records a liaison activity it organised or joined (对接活动)."""
    check_cadre(by, secondment)
    clean = _clean_activity(
        {
            "title": title,
            "held_on": held_on,
            "place": place,
            "participants": participants,
            "outcome": outcome,
        },
        secondment,
    )
    with transaction.atomic():
        activity = LiaisonActivity.objects.create(secondment=secondment, **clean)
        audit.record(
            by,
            "exchange.activity_create",
            activity,
            summary=_("添加对接活动：%(title)s") % {"title": clean["title"]},
            detail=_detail({"secondment": secondment, "held_on": clean["held_on"]}),
        )
    return activity


def update_activity(
    activity: LiaisonActivity, *, by: User, version: int | None = None, **changes: Any
) -> LiaisonActivity:
    """Change the fields given (ACTIVITY_FIELDS); `version` is the one the editor read (stale: Conflict)."""
    check_cadre(by, activity.secondment)
    unknown = set(changes) - set(ACTIVITY_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    current = {name: getattr(activity, name) for name in ACTIVITY_FIELDS}
    clean = _clean_activity({**current, **changes}, activity.secondment)
    with transaction.atomic():
        _change_row(activity, by=by, version=version, clean=clean)
    return activity


def delete_activity(activity: LiaisonActivity, *, by: User, version: int | None = None) -> None:
    """The cadre removes one of its activities; a stale `version` loses (Conflict)."""
    _delete_row(activity, by=by, version=version)


# --- reads ------------------------------------------------------------------------------------------


def with_counts(secondments: QuerySet[Secondment]) -> QuerySet[Secondment]:
    """Each secondment with note_count, activity_count, lead_count and practice_count (distinct: the four
    joins would otherwise multiply one another)."""
    return secondments.annotate(
        note_count=Count("notes", distinct=True),
        activity_count=Count("activities", distinct=True),
        lead_count=Count("sourced_leads", distinct=True),
        practice_count=Count("practices", distinct=True),
    )
