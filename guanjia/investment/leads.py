"""Writes and reads of leads (招商线索): a target, a node, a source, an owner, contacts and a contact log.

States: 新线索 → 接触中 → 洽谈中 → 转为项目, or 放弃 (with a reason) from any open state, and back from 放弃 to
接触中 (重新激活). The moves are the one table TRANSITIONS below. A lead becomes 转为项目 only when a
project is created from it (projects.create_project calls mark_converted in its own transaction), never
by a move of its own.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.masking import mask_phone
from guanjia.core.models import User
from guanjia.investment.access import check_keeper, may_keep, promoters_of_zone, today
from guanjia.investment.models import (
    ChainNode,
    Lead,
    LeadContact,
    LeadLog,
    LeadSource,
    LeadStatus,
    LeadTransition,
    Target,
)

OPEN_STATUSES = frozenset({LeadStatus.NEW, LeadStatus.CONTACTING, LeadStatus.NEGOTIATING})

# The only moves a lead makes by itself (move_lead). 转为项目 is not here: only mark_converted, called when
# a project is created from the lead, reaches it; and nothing leaves it.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    LeadStatus.NEW: (LeadStatus.CONTACTING, LeadStatus.ABANDONED),
    LeadStatus.CONTACTING: (LeadStatus.NEGOTIATING, LeadStatus.ABANDONED),
    LeadStatus.NEGOTIATING: (LeadStatus.ABANDONED,),
    LeadStatus.ABANDONED: (LeadStatus.CONTACTING,),  # 重新激活
    LeadStatus.CONVERTED: (),
}

SOURCE_DETAIL_MAX = 200
REASON_MAX = 200  # abandon_reason and the transition's note
NAME_MAX = 50
POSITION_MAX = 50
PHONE_MAX = 20
# Digits with the usual separators: 0512-6688 1234, +86 138 0000 0000, (010)12345678.
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9\- ()]{4,19}$")


class _Unset(enum.Enum):
    KEEP = 0


KEEP = _Unset.KEEP  # update_lead: the field was not given, keep what the lead has


# --- who sees what -----------------------------------------------------------------------------------


def may_keep_lead(user: User, lead: Lead) -> bool:
    """The promoters of the lead's zone change it; its leaders only read it."""
    return may_keep(user, lead.zone_id)


def contact_phone_for(user: User | None, lead: Lead, phone: str) -> str:
    """A lead contact's phone as `user` may see it: in full for the promoters of the lead's zone, who must
    call the contact; masked for everyone else (the zone's leaders read the lead, not whom to call)."""
    if user is not None and user.is_authenticated and may_keep(user, lead.zone_id):
        return phone
    return mask_phone(phone)


def allowed_moves(lead: Lead) -> tuple[str, ...]:
    """The states the lead may be moved to from where it is (TRANSITIONS)."""
    return TRANSITIONS.get(lead.status, ())


def state_counts(leads: QuerySet[Lead]) -> dict[str, int]:
    """How many of `leads` are in each state, every state listed (0 where none)."""
    counts = dict.fromkeys(LeadStatus.values, 0)
    for row in leads.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def project_of(lead: Lead) -> Any:
    """The project created from the lead, or None."""
    try:
        return lead.project  # type: ignore[attr-defined]
    except Lead.project.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return None


# --- checks ---------------------------------------------------------------------------------------


def _label(status: str) -> str:
    return str(LeadStatus(status).label) if status in LeadStatus.values else status


def _check_open_for_edit(lead: Lead) -> None:
    if lead.status == LeadStatus.CONVERTED:
        raise ServiceError(_("线索已转为项目，不能再修改；请在项目中继续跟进"))


def _clean_text(value: str | None, *, label: str, max_length: int, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ServiceError(_("%(label)s：请填写") % {"label": label})
    if len(text) > max_length:
        raise ServiceError(_("%(label)s：不能超过 %(max)d 个字") % {"label": label, "max": max_length})
    return text


def _clean_source(source: str) -> str:
    if source not in LeadSource.values:
        raise ServiceError(_("线索来源：无效的来源“%(source)s”") % {"source": source})
    return source


def _clean_target(target: Target, *, zone_id: int) -> Target:
    if target.zone_id != zone_id:
        raise ServiceError(_("目标企业：“%(target)s”不在本线索所属园区的目标企业库中") % {"target": target})
    return target


def _clean_node(node: ChainNode | None, *, zone_id: int) -> ChainNode | None:
    if node is not None and node.chain.zone_id != zone_id:
        raise ServiceError(_("链环节：“%(node)s”不是本园区产业链上的环节") % {"node": node})
    return node


def _clean_owner(owner: User, *, lead_zone: Any) -> User:
    if not promoters_of_zone(lead_zone).filter(pk=owner.pk).exists():
        raise ServiceError(_("负责人：“%(owner)s”不是本园区在岗的招商专员") % {"owner": owner})
    return owner


@dataclass(frozen=True)
class ContactDetails:
    """A contact at the target company, as entered."""

    name: str
    position: str = ""
    phone: str = ""
    email: str = ""


def _clean_contact(raw: ContactDetails | Mapping[str, Any]) -> ContactDetails:
    data = raw if isinstance(raw, ContactDetails) else ContactDetails(**dict(raw))
    name = _clean_text(data.name, label=_("联系人"), max_length=NAME_MAX, required=True)
    position = _clean_text(data.position, label=_("职务"), max_length=POSITION_MAX)
    phone = _clean_text(data.phone, label=_("联系电话"), max_length=PHONE_MAX)
    if phone and not PHONE_PATTERN.match(phone):
        raise ServiceError(_("联系电话：“%(phone)s”不是有效的电话号码") % {"phone": phone})
    email = _clean_text(data.email, label=_("邮箱"), max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ServiceError(_("邮箱：“%(email)s”不是有效的邮箱地址") % {"email": email}) from exc
    return ContactDetails(name=name, position=position, phone=phone, email=email)


def _bump(lead: Lead, version: int, **values: Any) -> None:
    """Write `values` if nobody changed the lead since `version` was read. Inside a transaction."""
    changed = Lead.objects.filter(pk=lead.pk, version=version).update(**values, version=version + 1)
    if changed != 1:
        raise Conflict(_("线索“%(target)s”刚被他人修改，请刷新后重试") % {"target": lead.target})
    for name, value in values.items():
        setattr(lead, name, value)
    lead.version = version + 1


# --- creating and changing a lead -------------------------------------------------------------------


def create_lead(
    *,
    target: Target,
    source: str,
    by: User,
    node: ChainNode | None = None,
    source_detail: str = "",
    owner: User | None = None,
    summary: str = "",
    contacts: Iterable[ContactDetails | Mapping[str, Any]] = (),
) -> Lead:
    """A promoter records a lead on a target of its zone's library; it starts as 新线索."""
    if not may_keep(by):
        raise NotAllowed(_("只有招商专员可以录入招商线索"))
    if not may_keep(by, target.zone_id):
        raise NotAllowed(_("目标企业：“%(target)s”不在您所在园区的目标企业库中") % {"target": target})
    source = _clean_source(source)
    source_detail = _clean_text(source_detail, label=_("来源说明"), max_length=SOURCE_DETAIL_MAX)
    summary = (summary or "").strip()
    node = _clean_node(node, zone_id=target.zone_id)
    if node is None:
        # A target that covers exactly one link is a lead for that link.
        covered = list(target.nodes.select_related("chain")[:2])
        if len(covered) == 1:
            node = covered[0]
    owner = _clean_owner(owner or by, lead_zone=target.zone)
    people = [_clean_contact(c) for c in contacts]
    now = timezone.now()
    with transaction.atomic():
        lead = Lead.objects.create(
            zone_id=target.zone_id,
            target=target,
            node=node,
            source=source,
            source_detail=source_detail,
            owner=owner,
            summary=summary,
            created_by=by,
            created_at=now,
            status_changed_at=now,
        )
        LeadContact.objects.bulk_create(
            [LeadContact(lead=lead, **vars(person)) for person in people]  # frozen dataclass fields
        )
        audit.record(
            by,
            "investment.lead_create",
            lead,
            summary=f"新建招商线索：{target}（{LeadSource(source).label}）",
            detail={
                "target": target.pk,
                "node": node.pk if node else None,
                "source": source,
                "owner": owner.pk,
                "contacts": len(people),
            },
        )
    return lead


def update_lead(
    lead: Lead,
    *,
    by: User,
    version: int,
    target: Target | _Unset = KEEP,
    node: ChainNode | None | _Unset = KEEP,
    source: str | _Unset = KEEP,
    source_detail: str | _Unset = KEEP,
    summary: str | _Unset = KEEP,
) -> Lead:
    """Change what was given; `version` is the one the editor read, so a stale edit loses (Conflict)."""
    check_keeper(by, lead.zone_id)
    _check_open_for_edit(lead)
    values: dict[str, Any] = {}
    if not isinstance(target, _Unset):
        values["target"] = _clean_target(target, zone_id=lead.zone_id)
    if not isinstance(node, _Unset):
        values["node"] = _clean_node(node, zone_id=lead.zone_id)
    if not isinstance(source, _Unset):
        values["source"] = _clean_source(source)
    if not isinstance(source_detail, _Unset):
        values["source_detail"] = _clean_text(
            source_detail, label=_("来源说明"), max_length=SOURCE_DETAIL_MAX
        )
    if not isinstance(summary, _Unset):
        values["summary"] = (summary or "").strip()
    with transaction.atomic():
        _bump(lead, version, **values)
        audit.record(
            by,
            "investment.lead_update",
            lead,
            summary=f"修改招商线索：{lead.target}",
            detail={key: (value.pk if hasattr(value, "pk") else value) for key, value in values.items()},
        )
    return lead


def reassign_owner(lead: Lead, *, owner: User, by: User, version: int | None = None) -> Lead:
    """Hand the lead to another promoter of its zone (改派负责人)."""
    check_keeper(by, lead.zone_id)
    _check_open_for_edit(lead)
    _clean_owner(owner, lead_zone=lead.zone)
    if owner.pk == lead.owner_id:
        raise ServiceError(_("负责人：“%(owner)s”已是本线索的负责人") % {"owner": owner})
    previous = lead.owner_id
    with transaction.atomic():
        _bump(lead, lead.version if version is None else version, owner=owner)
        audit.record(
            by,
            "investment.lead_reassign",
            lead,
            summary=f"招商线索“{lead.target}”改由 {owner} 负责",
            detail={"from": previous, "to": owner.pk},
        )
    return lead


# --- moving a lead ----------------------------------------------------------------------------------


def move_lead(lead: Lead, *, to: str, by: User, reason: str = "", version: int | None = None) -> Lead:
    """Move the lead along TRANSITIONS: 放弃 needs a reason; 重新激活 (放弃 → 接触中) is audited as such."""
    check_keeper(by, lead.zone_id)
    if version is not None and version != lead.version:
        raise Conflict(_("线索“%(target)s”刚被他人修改，请刷新后重试") % {"target": lead.target})
    if to not in LeadStatus.values:
        raise ServiceError(_("目标状态：无效的状态“%(to)s”") % {"to": to})
    if to == LeadStatus.CONVERTED and lead.status in OPEN_STATUSES:
        raise ServiceError(_("线索不能直接改为“转为项目”：请用“转为项目”创建项目，线索随之转为项目"))
    if to not in allowed_moves(lead):
        raise ServiceError(
            _("线索当前为“%(current)s”，不能改为“%(wanted)s”")
            % {"current": _label(lead.status), "wanted": _label(to)}
        )
    reason = _clean_text(
        reason,
        label=_("放弃原因") if to == LeadStatus.ABANDONED else _("说明"),
        max_length=REASON_MAX,
        required=to == LeadStatus.ABANDONED,
    )
    from_status = lead.status
    fields: dict[str, Any] = {}
    if to == LeadStatus.ABANDONED:
        fields["abandon_reason"] = reason
    elif from_status == LeadStatus.ABANDONED:
        fields["abandon_reason"] = ""  # the reason stays in the transition that abandoned it
    reactivated = from_status == LeadStatus.ABANDONED
    with transaction.atomic():
        _record_move(lead, to=to, by=by, note=reason, **fields)
        if reactivated:
            verb, text = "investment.lead_reactivate", f"重新激活招商线索：{lead.target}"
        elif to == LeadStatus.ABANDONED:
            verb, text = "investment.lead_abandon", f"放弃招商线索：{lead.target}（{reason}）"
        else:
            verb = "investment.lead_move"
            text = f"招商线索“{lead.target}”：{_label(from_status)} → {_label(to)}"
        audit.record(by, verb, lead, summary=text, detail={"from": from_status, "to": to, "note": reason})
    return lead


def _record_move(lead: Lead, *, to: str, by: User, note: str = "", **fields: object) -> None:
    """Move `lead` to `to` if nobody moved it since it was read; write its transition. Inside a transaction."""
    now = timezone.now()
    moved = Lead.objects.filter(pk=lead.pk, version=lead.version, status=lead.status).update(
        status=to, status_changed_at=now, version=lead.version + 1, **fields
    )
    if moved != 1:
        raise Conflict(_("该线索刚被他人修改，请刷新后重试"))
    LeadTransition.objects.create(lead=lead, from_status=lead.status, to_status=to, at=now, by=by, note=note)
    lead.status, lead.status_changed_at, lead.version = to, now, lead.version + 1
    for name, value in fields.items():
        setattr(lead, name, value)


def mark_converted(lead: Lead, *, by: User, note: str = "") -> None:
    """The lead became a project: called by projects.create_project inside its transaction."""
    check_keeper(by, lead.zone_id)
    if lead.status not in OPEN_STATUSES:
        raise ServiceError(
            _("线索当前状态为“%(status)s”，不能转为项目") % {"status": lead.get_status_display()}
        )
    from_status = lead.status
    _record_move(lead, to=LeadStatus.CONVERTED, by=by, note=note)
    audit.record(
        by,
        "investment.lead_convert",
        lead,
        summary=f"线索“{lead.target}”转为项目",
        detail={"from": from_status, "to": LeadStatus.CONVERTED},
    )


# --- contacts and the contact log -------------------------------------------------------------------


def add_contact(
    lead: Lead, *, name: str, by: User, position: str = "", phone: str = "", email: str = ""
) -> LeadContact:
    """Add a person at the target company to the lead."""
    check_keeper(by, lead.zone_id)
    _check_open_for_edit(lead)
    person = _clean_contact(ContactDetails(name=name, position=position, phone=phone, email=email))
    with transaction.atomic():
        contact = LeadContact.objects.create(lead=lead, **vars(person))
        audit.record(
            by,
            "investment.lead_contact_add",
            lead,
            summary=f"招商线索“{lead.target}”添加联系人：{person.name}",
            detail={"contact": contact.pk},
        )
    return contact


def remove_contact(contact: LeadContact, *, by: User) -> None:
    """Take a contact off the lead (left the company, wrong person)."""
    lead = contact.lead
    check_keeper(by, lead.zone_id)
    _check_open_for_edit(lead)
    with transaction.atomic():
        removed, _kinds = LeadContact.objects.filter(pk=contact.pk, lead_id=lead.pk).delete()
        if removed != 1:
            raise Conflict(_("联系人“%(name)s”已被他人删除，请刷新后重试") % {"name": contact.name})
        audit.record(
            by,
            "investment.lead_contact_remove",
            lead,
            summary=f"招商线索“{lead.target}”删除联系人：{contact.name}",
            detail={"contact": contact.pk},
        )


def add_log(lead: Lead, *, happened_on: date, mode: str, summary: str, by: User) -> LeadLog:
    """Record one contact with the target (接洽记录): when, how, what was said."""
    check_keeper(by, lead.zone_id)
    _check_open_for_edit(lead)
    if happened_on > today():
        raise ServiceError(_("日期：不能晚于今天（%(today)s）") % {"today": today().isoformat()})
    if mode not in LeadLog.Mode.values:
        raise ServiceError(_("方式：无效的方式“%(mode)s”") % {"mode": mode})
    text = (summary or "").strip()
    if not text:
        raise ServiceError(_("内容：请填写"))
    with transaction.atomic():
        log = LeadLog.objects.create(lead=lead, happened_on=happened_on, mode=mode, summary=text, by=by)
        audit.record(
            by,
            "investment.lead_log_add",
            lead,
            summary=f"招商线索“{lead.target}”添加接洽记录（{happened_on}，{LeadLog.Mode(mode).label}）",
            detail={"log": log.pk, "happened_on": happened_on.isoformat(), "mode": mode},
        )
    return log
