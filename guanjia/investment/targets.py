"""Writes and reads of the target library (招商目标企业库): companies outside the zone that could fill a link.

A target belongs to one zone's library; its name is unique there, and so is its USCC when it is known
(foreign companies have none). The nodes it covers are nodes of that zone's chains. A target that a
lead or a project names is kept: deleting it is refused, with the count. Bulk loading from a
spreadsheet is in targets_import.py and checks every row with the same rules (`normalise`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.errors import Conflict, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.models import Scale
from guanjia.enterprises.uscc import clean_uscc
from guanjia.investment.access import check_keeper
from guanjia.investment.models import ChainNode, Lead, Project, Target

NAME_MAX = 200
HEADQUARTERS_MAX = 100
STOCK_CODE_MAX = 20
NOTES_MAX = 2000
# 300750.SZ, 600519.SH, 00700.HK, 430047.BJ, BRK-B: letters, digits, dots and dashes.
_STOCK_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,19}$")

# The fields a promoter edits, in the order forms and messages show them.
EDITABLE_FIELDS = ("name", "uscc", "headquarters", "scale", "listed", "stock_code", "notes")


def labels() -> dict[str, str]:
    """Each field's name as messages say it (evaluated per call: the interface language may change)."""
    return {
        "name": _("企业名称"),
        "uscc": _("统一社会信用代码"),
        "headquarters": _("总部所在地"),
        "scale": _("企业规模"),
        "listed": _("是否上市"),
        "stock_code": _("股票代码"),
        "notes": _("备注"),
        "nodes": _("覆盖环节"),
    }


def _without_label(message: str, label: str) -> str:
    # clean_uscc's messages start with the field's name, which the caller adds itself.
    if message.startswith(label):
        message = message[len(label) :].lstrip("：:，, ")
    return message


# --- the rules, shared by the forms, the API and the import ------------------------------------------


def normalise(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The values cleaned, and (field, message) for each that breaks a rule; a field not given is not
    checked. Messages do not repeat the field's name: the caller puts it in front, or in a column."""
    cleaned: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    if "name" in values:
        name = " ".join(str(values["name"] or "").split())
        if not name:
            problems.append(("name", _("不能为空")))
        elif len(name) > NAME_MAX:
            problems.append(("name", _("不能超过 %(n)d 个字") % {"n": NAME_MAX}))
        else:
            cleaned["name"] = name
    if "uscc" in values:
        raw = values["uscc"]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            cleaned["uscc"] = ""  # not known (e.g. a foreign company)
        else:
            try:
                cleaned["uscc"] = clean_uscc(raw)
            except ValidationError as exc:
                problems.append(("uscc", _without_label(exc.messages[0], _("统一社会信用代码"))))
    if "headquarters" in values:
        headquarters = str(values["headquarters"] or "").strip()
        if len(headquarters) > HEADQUARTERS_MAX:
            problems.append(("headquarters", _("不能超过 %(n)d 个字") % {"n": HEADQUARTERS_MAX}))
        else:
            cleaned["headquarters"] = headquarters
    if "scale" in values:
        if values["scale"] not in Scale.values:
            problems.append(
                ("scale", _("应为 %(choices)s 之一") % {"choices": "、".join(str(s.label) for s in Scale)})
            )
        else:
            cleaned["scale"] = str(values["scale"])
    if "listed" in values:
        cleaned["listed"] = bool(values["listed"])
    if "stock_code" in values:
        code = str(values["stock_code"] or "").strip().upper()
        if code and not _STOCK_CODE.match(code):
            problems.append(
                (
                    "stock_code",
                    _("“%(code)s”格式不正确：只能是字母、数字、点和短横线，不超过 %(n)d 位，如 300750.SZ")
                    % {"code": code[:40], "n": STOCK_CODE_MAX},
                )
            )
        else:
            cleaned["stock_code"] = code
    if "notes" in values:
        notes = str(values["notes"] or "").strip()
        if len(notes) > NOTES_MAX:
            problems.append(("notes", _("不能超过 %(n)d 个字") % {"n": NOTES_MAX}))
        else:
            cleaned["notes"] = notes
    return cleaned, problems


def listing_problem(listed: bool, stock_code: str) -> str | None:
    """A stock code belongs to a listed company only (a listed one may not have it filled in yet)."""
    if stock_code and not listed:
        return _("未上市的企业不填写股票代码；已上市请同时选择“上市”")
    return None


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned, problems = normalise(values)
    if problems:
        field, message = problems[0]
        raise ServiceError(f"{labels()[field]}：{message}")
    return cleaned


def _check_listing(listed: bool, stock_code: str) -> None:
    problem = listing_problem(listed, stock_code)
    if problem:
        raise ServiceError(f"{labels()['stock_code']}：{problem}")


def _check_unique(zone_id: int, name: str, uscc: str, *, exclude: int | None = None) -> None:
    others = Target.objects.filter(zone_id=zone_id).exclude(pk=exclude or 0)
    if others.filter(name=name).exists():
        raise ServiceError(_("企业名称：本园区目标企业库中已有“%(name)s”") % {"name": name})
    if uscc:
        same = others.filter(uscc=uscc).values_list("name", flat=True).first()
        if same is not None:
            raise ServiceError(
                _("统一社会信用代码：本园区目标企业库中的“%(name)s”已使用 %(code)s")
                % {"name": same, "code": uscc}
            )


def _check_nodes(zone_id: int, nodes: Iterable[ChainNode]) -> list[ChainNode]:
    nodes = list(dict.fromkeys(nodes))
    ids = {node.pk for node in nodes}
    inside = set(ChainNode.objects.filter(pk__in=ids, chain__zone_id=zone_id).values_list("pk", flat=True))
    for node in nodes:
        if node.pk not in inside:
            raise ServiceError(_("覆盖环节：“%(node)s”不是本园区产业链的环节") % {"node": node.name})
    return nodes


def _unique_violation(zone_id: int, name: str, uscc: str, exclude: int | None) -> ServiceError:
    """The message for a unique constraint someone else's write hit first (between check and write)."""
    try:
        _check_unique(zone_id, name, uscc, exclude=exclude)
    except ServiceError as exc:
        return exc
    return Conflict(_("目标企业库刚被他人修改，请刷新后重试"))


# --- writes ------------------------------------------------------------------------------------------


def create_target(
    *,
    zone: OrgUnit,
    by: User,
    name: str,
    uscc: str = "",
    headquarters: str = "",
    scale: str = Scale.MEDIUM,
    listed: bool = False,
    stock_code: str = "",
    notes: str = "",
    nodes: Iterable[ChainNode] = (),
) -> Target:
    """A promoter adds a company to its zone's library."""
    check_keeper(by, zone.pk)
    if zone.kind != OrgUnit.Kind.ZONE:
        raise ServiceError(_("所属园区：“%(zone)s”不是园区或县区") % {"zone": zone})
    fields = _clean(
        {
            "name": name,
            "uscc": uscc,
            "headquarters": headquarters,
            "scale": scale,
            "listed": listed,
            "stock_code": stock_code,
            "notes": notes,
        }
    )
    _check_listing(fields["listed"], fields["stock_code"])
    covered = _check_nodes(zone.pk, nodes)
    try:
        with transaction.atomic():
            _check_unique(zone.pk, fields["name"], fields["uscc"])
            target = Target.objects.create(zone=zone, created_by=by, **fields)
            target.nodes.set(covered)
            audit.record(
                by,
                "investment.target_create",
                target,
                summary=_("目标企业库新增“%(name)s”") % {"name": target.name},
                detail={"zone": zone.pk, **fields, "nodes": [node.pk for node in covered]},
            )
    except IntegrityError:
        raise _unique_violation(zone.pk, fields["name"], fields["uscc"], None) from None
    return target


def update_target(target: Target, *, by: User, version: int, **changes: Any) -> Target:
    """Change the fields given (EDITABLE_FIELDS, and `nodes`); refused if someone changed it since `version`."""
    check_keeper(by, target.zone_id)
    unknown = set(changes) - {*EDITABLE_FIELDS, "nodes"}
    if unknown:
        raise ServiceError(_("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    nodes = changes.pop("nodes", None)
    fields = _clean(changes)
    after = {name: fields.get(name, getattr(target, name)) for name in EDITABLE_FIELDS}
    _check_listing(after["listed"], after["stock_code"])
    covered = _check_nodes(target.zone_id, nodes) if nodes is not None else None
    before_nodes = sorted(target.nodes.values_list("pk", flat=True)) if covered is not None else []
    diff: dict[str, Any] = {
        name: [getattr(target, name), value]
        for name, value in fields.items()
        if getattr(target, name) != value
    }
    if covered is not None and sorted(node.pk for node in covered) != before_nodes:
        diff["nodes"] = [before_nodes, sorted(node.pk for node in covered)]
    try:
        with transaction.atomic():
            _check_unique(target.zone_id, after["name"], after["uscc"], exclude=target.pk)
            moved = Target.objects.filter(pk=target.pk, version=version).update(**fields, version=version + 1)
            if moved != 1:
                raise Conflict(_("目标企业“%(name)s”刚被他人修改，请刷新后重试") % {"name": target.name})
            if covered is not None:
                target.nodes.set(covered)
            audit.record(
                by,
                "investment.target_update",
                target,
                summary=_("修改目标企业“%(name)s”") % {"name": after["name"]},
                detail={"changes": diff},
            )
    except IntegrityError:
        raise _unique_violation(target.zone_id, after["name"], after["uscc"], target.pk) from None
    for name, value in fields.items():
        setattr(target, name, value)
    target.version = version + 1
    return target


def _references(target_id: int) -> tuple[int, int]:
    return (
        Lead.objects.filter(target_id=target_id).count(),
        Project.objects.filter(target_id=target_id).count(),
    )


def _still_used(target: Target) -> ServiceError | None:
    leads, projects = _references(target.pk)
    if not leads and not projects:
        return None
    return ServiceError(
        _("目标企业“%(name)s”有 %(leads)d 条招商线索、%(projects)d 个招商项目引用，不能删除")
        % {"name": target.name, "leads": leads, "projects": projects}
    )


def delete_target(target: Target, *, by: User, version: int | None = None) -> None:
    """Remove a target no lead or project names (those keep their history); `version` guards a stale page."""
    check_keeper(by, target.zone_id)
    guard = Target.objects.filter(pk=target.pk)
    if version is not None:
        guard = guard.filter(version=version)
    pk, name = target.pk, target.name
    try:
        with transaction.atomic():
            # Claim the row first (the conditional UPDATE is the lock on SQLite as on PostgreSQL), then
            # look for references: a lead added meanwhile waits for us or is seen here.
            if guard.update(version=F("version") + 1) != 1:
                raise Conflict(_("目标企业“%(name)s”刚被他人修改或删除，请刷新后重试") % {"name": name})
            refused = _still_used(target)
            if refused is not None:
                raise refused
            Target.objects.filter(pk=pk).delete()
            audit.record(
                by,
                "investment.target_delete",
                object_type="investment.target",
                object_id=str(pk),
                summary=_("从目标企业库删除“%(name)s”") % {"name": name},
                detail={"zone": target.zone_id, "name": name, "uscc": target.uscc},
            )
    except IntegrityError:
        # A lead or project naming it was committed between our check and our delete.
        raise _still_used(target) or Conflict(_("目标企业刚被他人修改，请刷新后重试")) from None


# --- reads -------------------------------------------------------------------------------------------


def with_lead_count(targets: QuerySet[Target]) -> QuerySet[Target]:
    """Each target with `lead_count`: leads about it in any state (a subquery, so filters that join
    the nodes do not multiply it)."""
    counts = (
        Lead.objects.filter(target=OuterRef("pk"))
        .order_by()
        .values("target")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return targets.annotate(lead_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)))


def zone_nodes(zone_ids: Iterable[int]) -> QuerySet[ChainNode]:
    """The nodes a target of these zones may cover: those of the zones' chains, chain by chain."""
    return (
        ChainNode.objects.filter(chain__zone_id__in=list(zone_ids))
        .select_related("chain")
        .order_by("chain__zone_id", "chain__name", "position", "pk")
    )
