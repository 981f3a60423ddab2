"""Writes and reads of the policy library (政策库): policy documents, their attachments, and their benefit
items with the structured eligibility that matching reads (guanjia.policies.matching).

Only the keepers of a policy (the handlers and the head of its responsible department, access.may_keep)
write it. Every write checks its input and names the field it refuses (InvalidField.field, for the
form to show the message next to it), runs in one transaction with its audit record, and changes a row
only if its version is still the one the editor read (a stale edit is refused with Conflict).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.appeals import attachments
from guanjia.core import audit
from guanjia.core.errors import Conflict, InvalidField, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, User
from guanjia.core.validation import clean_optional_whole, clean_text, clean_whole
from guanjia.enterprises.industries import DIVISION_CHOICES
from guanjia.enterprises.models import Scale, Tag, Tier
from guanjia.policies.access import check_keeper, coverage_zones, keeps_some_policy, today
from guanjia.policies.models import (
    BenefitCategory,
    BenefitItem,
    Policy,
    PolicyAttachment,
    join_codes,
    split_codes,
)

TITLE_MAX = 200
ISSUER_MAX = 100
NUMBER_MAX = 100
ITEM_NAME_MAX = 100
OTHER_MAX = 2000
YEARS_MAX = 200
DAYS_MAX = 365  # 兑现时限: at most a year of working days
MONEY_LIMIT = Decimal("1000000000000")  # the columns' 14 digits, 2 of them decimals

DIVISION_LABELS: dict[str, str] = dict(DIVISION_CHOICES)

POLICY_FIELDS = ("title", "issuer", "document_number", "effective_on", "expires_on", "full_text")
ITEM_FIELDS = (
    "name",
    "category",
    "summary",
    "max_amount",
    "auto_grant",
    "disburse_within_days",
    "zones",
    "divisions",
    "scales",
    "tiers",
    "tags",
    "min_years",
    "max_years",
    "capital_min",
    "capital_max",
    "other_conditions",
)
_MULTI = ("divisions", "scales", "tiers")
_RELATED = ("zones", "tags")


# --- reads ------------------------------------------------------------------------------------------


def state_of(policy: Policy, on: date | None = None) -> tuple[str, str]:
    """(code, label) of where the policy stands on `on` (today): current 现行有效, upcoming 尚未生效,
    expired 已失效."""
    on = on or today()
    if policy.expires_on is not None and policy.expires_on < on:
        return "expired", _("已失效")
    if policy.effective_on > on:
        return "upcoming", _("尚未生效")
    return "current", _("现行有效")


def _fmt(amount: Decimal) -> str:
    """3000.00 → "3000", 12.50 → "12.5"."""
    return format(amount.normalize(), "f")


def _label(choices: Any, code: str) -> str:
    return str(choices(code).label) if code in choices.values else code


def describe(item: BenefitItem) -> list[tuple[str, str]]:
    """The item's eligibility in words: (condition label, text) for every condition that is set, in
    the order of the form, ending with the conditions a person judges (other_conditions)."""
    lines: list[tuple[str, str]] = []
    zones = [zone.name for zone in item.zones.all()]
    if zones:
        lines.append((_("适用园区"), "、".join(zones)))
    if item.divisions:
        lines.append((_("行业大类"), "、".join(DIVISION_LABELS.get(c, c) for c in item.division_list)))
    if item.scales:
        lines.append((_("企业规模"), "、".join(_label(Scale, c) for c in item.scale_list)))
    if item.tiers:
        lines.append((_("企业分级"), "、".join(_label(Tier, c) for c in item.tier_list)))
    tags = [tag.name for tag in item.tags.all()]
    if tags:
        lines.append((_("企业标签（任一）"), "、".join(tags)))
    if item.min_years is not None and item.max_years is not None:
        lines.append(
            (
                _("成立年限"),
                _("成立满 %(min)s 年且不满 %(max)s 年") % {"min": item.min_years, "max": item.max_years},
            )
        )
    elif item.min_years is not None:
        lines.append((_("成立年限"), _("成立满 %(min)s 年") % {"min": item.min_years}))
    elif item.max_years is not None:
        lines.append((_("成立年限"), _("成立不满 %(max)s 年") % {"max": item.max_years}))
    low, high = item.capital_min, item.capital_max
    if low is not None and high is not None:
        text = _("%(min)s 至 %(max)s 万元（含）") % {"min": _fmt(low), "max": _fmt(high)}
        lines.append((_("注册资本"), text))
    elif low is not None:
        lines.append((_("注册资本"), _("不低于 %(min)s 万元") % {"min": _fmt(low)}))
    elif high is not None:
        lines.append((_("注册资本"), _("不高于 %(max)s 万元") % {"max": _fmt(high)}))
    if item.other_conditions:
        lines.append((_("其他条件（人工判断）"), item.other_conditions))
    return lines


def attachments_of(policy: Policy) -> QuerySet[PolicyAttachment]:
    return policy.attachments.select_related("uploaded_by").order_by("uploaded_at", "pk")


def has_deliveries(item: BenefitItem) -> bool:
    return item.deliveries.exists()


# --- checks -----------------------------------------------------------------------------------------


def _money(field: str, label: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        raise InvalidField(field, _("%(label)s：请填写数字") % {"label": label}) from None
    if not amount.is_finite():
        raise InvalidField(field, _("%(label)s：请填写数字") % {"label": label})
    if amount < 0:
        raise InvalidField(field, _("%(label)s：不能为负数") % {"label": label})
    if amount >= MONEY_LIMIT:
        raise InvalidField(field, _("%(label)s：数额过大") % {"label": label})
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidField(field, _("%(label)s：最多保留两位小数") % {"label": label})
    return amount.quantize(Decimal("0.01"))


def _date(field: str, label: str, value: Any, *, required: bool = False) -> date | None:
    if value is None or value == "":
        if required:
            raise InvalidField(field, _("%(label)s：请填写") % {"label": label})
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidField(field, _("%(label)s：日期格式应为 YYYY-MM-DD") % {"label": label}) from None


def _codes(field: str, label: str, values: Iterable[str] | str, allowed: Sequence[str]) -> str:
    chosen = split_codes(values) if isinstance(values, str) else [str(v).strip() for v in values]
    for code in chosen:
        if code not in allowed:
            raise InvalidField(
                field, _("%(label)s：未知的选项“%(value)s”") % {"label": label, "value": code[:40]}
            )
    return join_codes(chosen)


def _ids(field: str, label: str, values: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for value in values:
        if isinstance(value, Model):
            ids.append(int(value.pk))
            continue
        if isinstance(value, bool):
            raise InvalidField(field, _("%(label)s：无效的编号") % {"label": label})
        try:
            ids.append(int(str(value)))
        except (ValueError, TypeError):
            raise InvalidField(
                field, _("%(label)s：无效的编号“%(value)s”") % {"label": label, "value": str(value)[:20]}
            ) from None
    return list(dict.fromkeys(ids))


def _zones(policy: Policy, values: Iterable[Any]) -> list[OrgUnit]:
    """The zones chosen for an item: each one of the policy's coverage (its checkboxes)."""
    label = _("适用园区")
    ids = _ids("zones", label, values)
    covered = {zone.pk: zone for zone in coverage_zones(policy)}
    for pk in ids:
        if pk not in covered:
            unit = OrgUnit.objects.filter(pk=pk).first()
            name = unit.name if unit is not None else str(pk)
            raise InvalidField(
                "zones", _("%(label)s：“%(zone)s”不在本政策的覆盖范围内") % {"label": label, "zone": name}
            )
    return [covered[pk] for pk in ids]


def _tags(values: Iterable[Any]) -> list[Tag]:
    label = _("企业标签（任一）")
    ids = _ids("tags", label, values)
    known = Tag.objects.in_bulk(ids)
    for pk in ids:
        if pk not in known:
            raise InvalidField("tags", _("%(label)s：未知的标签（编号 %(id)s）") % {"label": label, "id": pk})
    return [known[pk] for pk in ids]


def _clean_policy(values: Mapping[str, Any]) -> dict[str, Any]:
    """The policy's fields checked and normalised; InvalidField names the first bad one."""
    clean: dict[str, Any] = {
        "title": clean_text("title", _("政策名称"), values["title"], limit=TITLE_MAX, required=True),
        "issuer": clean_text("issuer", _("发文机关"), values["issuer"], limit=ISSUER_MAX, required=True),
        "document_number": clean_text(
            "document_number", _("文号"), values["document_number"], limit=NUMBER_MAX
        ),
        "effective_on": _date("effective_on", _("生效日期"), values["effective_on"], required=True),
        "expires_on": _date("expires_on", _("失效日期"), values["expires_on"]),
        "full_text": clean_text("full_text", _("政策原文"), values["full_text"]),
    }
    if clean["expires_on"] is not None and clean["expires_on"] < clean["effective_on"]:
        raise InvalidField("expires_on", _("失效日期：不能早于生效日期"))
    return clean


def _clean_item(policy: Policy, values: Mapping[str, Any]) -> dict[str, Any]:
    """The item's fields checked and normalised; InvalidField names the first bad one."""
    clean: dict[str, Any] = {
        "name": clean_text("name", _("兑现事项"), values["name"], limit=ITEM_NAME_MAX, required=True),
        "summary": clean_text("summary", _("支持内容"), values["summary"]),
        "max_amount": _money("max_amount", _("最高金额（万元）"), values["max_amount"]),
        "auto_grant": bool(values["auto_grant"]),
        "disburse_within_days": clean_whole(
            "disburse_within_days",
            _("兑现时限（工作日）"),
            values["disburse_within_days"],
            low=1,
            high=DAYS_MAX,
        ),
        "zones": _zones(policy, values["zones"]),
        "divisions": _codes("divisions", _("行业大类"), values["divisions"], list(DIVISION_LABELS)),
        "scales": _codes("scales", _("企业规模"), values["scales"], Scale.values),
        "tiers": _codes("tiers", _("企业分级"), values["tiers"], Tier.values),
        "tags": _tags(values["tags"]),
        "min_years": clean_optional_whole(
            "min_years", _("成立满（年）"), values["min_years"], low=0, high=YEARS_MAX
        ),
        "max_years": clean_optional_whole(
            "max_years", _("成立不满（年）"), values["max_years"], low=1, high=YEARS_MAX
        ),
        "capital_min": _money("capital_min", _("注册资本下限（万元）"), values["capital_min"]),
        "capital_max": _money("capital_max", _("注册资本上限（万元）"), values["capital_max"]),
        "other_conditions": clean_text(
            "other_conditions", _("其他条件（人工判断）"), values["other_conditions"], limit=OTHER_MAX
        ),
    }
    category = str(values["category"] or "")
    if category not in BenefitCategory.values:
        raise InvalidField("category", _("类别：未知的选项“%(value)s”") % {"value": category[:40]})
    clean["category"] = category
    low, high = clean["min_years"], clean["max_years"]
    if low is not None and high is not None and high <= low:
        raise InvalidField("max_years", _("成立不满（年）：应大于成立满（年）（%(min)s 年）") % {"min": low})
    low, high = clean["capital_min"], clean["capital_max"]
    if low is not None and high is not None and high < low:
        raise InvalidField(
            "capital_max",
            _("注册资本上限（万元）：不能低于注册资本下限（%(min)s 万元）") % {"min": _fmt(low)},
        )
    return clean


def _detail(clean: Mapping[str, Any]) -> dict[str, Any]:
    """An audit record's detail: dates and amounts as text, related objects as ids."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, list):
            return [obj.pk for obj in value]
        return value

    return {key: plain(value) for key, value in clean.items() if key != "full_text"}


def _unknown(changes: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ServiceError(_("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})


# --- policies ---------------------------------------------------------------------------------------


def create_policy(
    *,
    by: User,
    title: str,
    issuer: str,
    effective_on: date,
    department: OrgUnit | None = None,
    document_number: str = "",
    expires_on: date | None = None,
    full_text: str = "",
) -> Policy:
    """A keeper adds a policy of its own department (the department is the keeper's unit)."""
    if not keeps_some_policy(by):
        raise NotAllowed(_("只有部门承办人或部门负责人可以新建政策"))
    if department is not None and department.pk != by.unit_id:
        raise NotAllowed(_("承办部门：只能为本部门新建政策"))
    assert by.unit is not None  # keeps_some_policy: a department
    clean = _clean_policy(
        {
            "title": title,
            "issuer": issuer,
            "document_number": document_number,
            "effective_on": effective_on,
            "expires_on": expires_on,
            "full_text": full_text,
        }
    )
    now = timezone.now()
    with transaction.atomic():
        policy = Policy.objects.create(
            department=by.unit, created_by=by, created_at=now, updated_at=now, **clean
        )
        audit.record(
            by,
            "policies.policy_create",
            policy,
            summary=f"新建政策：{policy.title}",
            detail={"department": by.unit_id, **_detail(clean)},
        )
    return policy


def update_policy(policy: Policy, *, by: User, version: int, **changes: Any) -> Policy:
    """Edit what was given; `version` is the one the editor read, so a stale edit loses (Conflict)."""
    check_keeper(by, policy)
    _unknown(changes, POLICY_FIELDS)
    current = {name: getattr(policy, name) for name in POLICY_FIELDS}
    clean = _clean_policy({**current, **changes})
    now = timezone.now()
    with transaction.atomic():
        moved = Policy.objects.filter(pk=policy.pk, version=version).update(
            **clean, updated_at=now, version=version + 1
        )
        if moved != 1:
            raise Conflict(_("政策“%(title)s”刚被他人修改，请刷新后重试") % {"title": policy.title})
        changed = {key: value for key, value in clean.items() if current[key] != value}
        audit.record(
            by,
            "policies.policy_update",
            policy,
            summary=f"修改政策：{clean['title']}",
            detail=_detail(changed),
        )
    for key, value in clean.items():
        setattr(policy, key, value)
    policy.updated_at, policy.version = now, version + 1
    return policy


# --- benefit items ----------------------------------------------------------------------------------

_ITEM_DEFAULTS: dict[str, Any] = {
    "category": BenefitCategory.SUBSIDY,
    "summary": "",
    "max_amount": None,
    "auto_grant": False,
    "disburse_within_days": 20,
    "zones": (),
    "divisions": (),
    "scales": (),
    "tiers": (),
    "tags": (),
    "min_years": None,
    "max_years": None,
    "capital_min": None,
    "capital_max": None,
    "other_conditions": "",
}


def add_item(policy: Policy, *, by: User, name: str, **conditions: Any) -> BenefitItem:
    """A keeper adds a benefit item with its eligibility to the policy; conditions left out do not
    restrict (divisions, scales, tiers: codes; zones, tags: objects or ids)."""
    check_keeper(by, policy)
    _unknown(conditions, ITEM_FIELDS)
    clean = _clean_item(policy, {**_ITEM_DEFAULTS, **conditions, "name": name})
    zones, tags = clean.pop("zones"), clean.pop("tags")
    with transaction.atomic():
        item = BenefitItem.objects.create(policy=policy, **clean)
        item.zones.set(zones)
        item.tags.set(tags)
        audit.record(
            by,
            "policies.item_add",
            item,
            summary=f"政策“{policy.title}”新增兑现事项：{item.name}",
            detail={"policy": policy.pk, **_detail({**clean, "zones": zones, "tags": tags})},
        )
    return item


def _item_values(item: BenefitItem) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(item, name) for name in ITEM_FIELDS if name not in (*_RELATED, *_MULTI)
    }
    values["divisions"], values["scales"], values["tiers"] = item.divisions, item.scales, item.tiers
    values["zones"] = list(item.zones.all())
    values["tags"] = list(item.tags.all())
    return values


def update_item(item: BenefitItem, *, by: User, version: int, **changes: Any) -> BenefitItem:
    """Edit what was given of the item and its eligibility; a stale `version` loses (Conflict)."""
    policy = item.policy
    check_keeper(by, policy)
    _unknown(changes, ITEM_FIELDS)
    current = _item_values(item)
    clean = _clean_item(policy, {**current, **changes})
    zones, tags = clean.pop("zones"), clean.pop("tags")
    with transaction.atomic():
        moved = BenefitItem.objects.filter(pk=item.pk, version=version).update(**clean, version=version + 1)
        if moved != 1:
            raise Conflict(_("兑现事项“%(name)s”刚被他人修改，请刷新后重试") % {"name": item.name})
        item.zones.set(zones)
        item.tags.set(tags)
        changed = {key: value for key, value in clean.items() if current[key] != value}
        if [z.pk for z in current["zones"]] != [z.pk for z in zones]:
            changed["zones"] = zones
        if [t.pk for t in current["tags"]] != [t.pk for t in tags]:
            changed["tags"] = tags
        audit.record(
            by,
            "policies.item_update",
            item,
            summary=f"修改兑现事项：{clean['name']}（政策“{policy.title}”）",
            detail={"policy": policy.pk, **_detail(changed)},
        )
    for key, value in clean.items():
        setattr(item, key, value)
    item.version = version + 1
    return item


def remove_item(item: BenefitItem, *, by: User, version: int | None = None) -> None:
    """Remove an item no enterprise has been given yet; one with deliveries stays (their record)."""
    policy = item.policy
    check_keeper(by, policy)
    refused = _("兑现事项“%(name)s”已有企业兑现记录，不能删除；如不再执行，请修改政策的失效日期") % {
        "name": item.name
    }
    if has_deliveries(item):
        raise ServiceError(refused)
    shown = item.version if version is None else version
    try:
        with transaction.atomic():
            # The version guard makes a concurrent edit and this removal exclusive; a delivery pushed
            # meanwhile is caught by the foreign key (PROTECT) when the transaction commits.
            if BenefitItem.objects.filter(pk=item.pk, version=shown).update(version=shown + 1) != 1:
                raise Conflict(_("兑现事项“%(name)s”刚被他人修改，请刷新后重试") % {"name": item.name})
            if has_deliveries(item):
                raise ServiceError(refused)
            audit.record(
                by,
                "policies.item_remove",
                item,
                summary=f"删除兑现事项：{item.name}（政策“{policy.title}”）",
                detail={"policy": policy.pk, "name": item.name},
            )
            BenefitItem.objects.filter(pk=item.pk).delete()
    except IntegrityError:  # ProtectedError included
        raise ServiceError(refused) from None


# --- attachments ------------------------------------------------------------------------------------


def add_attachments(
    policy: Policy, files: Sequence[UploadedFile], *, by: User, at: datetime | None = None
) -> list[PolicyAttachment]:
    """A keeper adds files to the policy (the published document, application forms): each is checked
    by its content like an appeal's attachment; all of them are added or, if one is refused, none."""
    check_keeper(by, policy)
    staged = attachments.stage(files)
    keys: list[str] = []
    now = at or timezone.now()
    try:
        keys = attachments.place(staged)
        with transaction.atomic():
            rows = attachments.save_rows(PolicyAttachment, staged, keys, by=by, at=now, policy=policy)
            audit.record(
                by,
                "policies.attachment_add",
                policy,
                summary=f"政策“{policy.title}”上传附件 {len(rows)} 个",
                detail={
                    "files": [
                        {"id": row.pk, "name": row.name, "type": row.content_type, "sha256": row.sha256}
                        for row in rows
                    ]
                },
            )
    except BaseException:
        attachments.unplace(keys)  # the rows that named them were rolled back
        raise
    finally:
        attachments.discard(staged)  # whatever was not moved into place
    return rows


def download(attachment: PolicyAttachment, *, by: User, ip: str | None = None) -> FileResponse:
    """The file as a download, audited. The caller has checked that `by` sees the policy."""
    return attachments.audited_download(
        attachment,
        by=by,
        action="policies.attachment_download",
        target=attachment,
        summary=f"下载政策附件 {attachment.name}",
        detail={"policy": attachment.policy_id, "name": attachment.name, "sha256": attachment.sha256},
        ip=ip,
    )
