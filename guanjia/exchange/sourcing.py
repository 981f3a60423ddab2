"""Sourced leads (挂职干部推荐线索): a company a seconded cadre brought back, and its way into the investment
pipeline.

The cadre submits it (and corrects it while it waits); a promoter of the zone takes it — which finds or
adds the company in the zone's target library and records an investment Lead with source 挂职干部, all in
one transaction, once however many promoters press at the same moment — or declines it with a reason.

States: 待接收 → 已转招商线索, or 待接收 → 不予跟进. Nothing leaves the last two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import audit
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.masking import mask_phone, sees_personal_data
from guanjia.core.models import OrgUnit, User
from guanjia.enterprises.uscc import clean_uscc
from guanjia.exchange.access import check_cadre, is_own_secondment
from guanjia.exchange.models import Secondment, SourcedLead, SourcedLeadStatus
from guanjia.investment import leads as lead_services
from guanjia.investment import targets as target_services
from guanjia.investment.access import may_keep as may_keep_investment
from guanjia.investment.models import ChainNode, Lead, LeadSource, Target

COMPANY_MAX = 200
INDUSTRY_MAX = 100
SUMMARY_MAX = 5000
CONTACT_NAME_MAX = 50
CONTACT_PHONE_MAX = 20
REASON_MAX = 200

SOURCED_FIELDS = ("company_name", "uscc", "industry", "summary", "contact_name", "contact_phone")


# --- who sees what ----------------------------------------------------------------------------------


def zone_id_of(sourced: SourcedLead) -> int:
    return sourced.secondment.pairing.zone_id


def may_decide(user: User, sourced: SourcedLead) -> bool:
    """The promoters of the secondment's zone take or decline its sourced leads."""
    return bool(user.is_authenticated and may_keep_investment(user, zone_id_of(sourced)))


def may_edit(user: User, sourced: SourcedLead) -> bool:
    """The cadre who submitted it corrects it while it waits."""
    return sourced.status == SourcedLeadStatus.SUBMITTED and is_own_secondment(user, sourced.secondment)


def contact_phone_for(user: User | None, sourced: SourcedLead) -> str:
    """The contact's phone in full for the cadre who brought it, the zone's promoters (who call) and the
    roles that see personal data (the zone's supervisors); masked for everyone else (the leaders)."""
    phone = sourced.contact_phone
    if (
        user is not None
        and user.is_authenticated
        and (
            is_own_secondment(user, sourced.secondment)
            or may_decide(user, sourced)
            or sees_personal_data(user)
        )
    ):
        return phone
    return mask_phone(phone)


# --- checks -----------------------------------------------------------------------------------------


def _text(value: Any, *, label: str, max_length: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ServiceError(_("%(label)s：请填写") % {"label": label})
    if len(text) > max_length:
        raise ServiceError(_("%(label)s：不能超过 %(max)d 个字") % {"label": label, "max": max_length})
    return text


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    name = " ".join(str(values["company_name"] or "").split())
    clean: dict[str, Any] = {
        "company_name": _text(name, label=_("企业名称"), max_length=COMPANY_MAX, required=True),
        "industry": _text(values["industry"], label=_("所属行业"), max_length=INDUSTRY_MAX),
        "summary": _text(values["summary"], label=_("项目情况"), max_length=SUMMARY_MAX, required=True),
        "contact_name": _text(values["contact_name"], label=_("联系人"), max_length=CONTACT_NAME_MAX),
        "contact_phone": _text(values["contact_phone"], label=_("联系电话"), max_length=CONTACT_PHONE_MAX),
    }
    raw_uscc = values["uscc"]
    if raw_uscc is None or (isinstance(raw_uscc, str) and not raw_uscc.strip()):
        clean["uscc"] = ""  # not known (a foreign company, or not asked yet)
    else:
        try:
            clean["uscc"] = clean_uscc(raw_uscc)
        except ValidationError as exc:
            raise ServiceError(exc.messages[0]) from exc
    phone = clean["contact_phone"]
    if phone and not lead_services.PHONE_PATTERN.match(phone):
        raise ServiceError(_("联系电话：“%(phone)s”不是有效的电话号码") % {"phone": phone})
    if phone and not clean["contact_name"]:
        raise ServiceError(_("联系人：填写了联系电话时请填写联系人"))
    return clean


def _state_refusal(sourced: SourcedLead) -> ServiceError:
    """Why a sourced lead that is no longer waiting cannot be acted on (read again from the database)."""
    now = SourcedLead.objects.select_related("decided_by").filter(pk=sourced.pk).first()
    if now is None:
        return Conflict(_("推荐线索“%(name)s”已被删除") % {"name": sourced.company_name})
    if now.status == SourcedLeadStatus.TAKEN:
        return Conflict(
            _("推荐线索“%(name)s”已由 %(by)s 转为招商线索") % {"name": now.company_name, "by": now.decided_by}
        )
    if now.status == SourcedLeadStatus.DECLINED:
        return Conflict(
            _("推荐线索“%(name)s”已由 %(by)s 决定不予跟进") % {"name": now.company_name, "by": now.decided_by}
        )
    return Conflict(_("推荐线索“%(name)s”刚被修改，请刷新后重试") % {"name": now.company_name})


# --- the cadre's writes -----------------------------------------------------------------------------


def submit(
    secondment: Secondment,
    *,
    by: User,
    company_name: str,
    summary: str,
    uscc: str = "",
    industry: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> SourcedLead:
    """The cadre of the secondment recommends a company that may invest; it waits for a promoter."""
    check_cadre(by, secondment)
    clean = _clean(
        {
            "company_name": company_name,
            "uscc": uscc,
            "industry": industry,
            "summary": summary,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
        }
    )
    with transaction.atomic():
        sourced = SourcedLead.objects.create(secondment=secondment, **clean)
        audit.record(
            by,
            "exchange.sourced_lead_submit",
            sourced,
            summary=_("挂职干部推荐线索：%(name)s") % {"name": clean["company_name"]},
            detail={"secondment": secondment.pk, "uscc": clean["uscc"], "industry": clean["industry"]},
        )
    return sourced


def update_sourced(sourced: SourcedLead, *, by: User, version: int, **changes: Any) -> SourcedLead:
    """The cadre corrects its sourced lead while it waits; a stale `version` loses (Conflict)."""
    check_cadre(by, sourced.secondment)
    unknown = set(changes) - set(SOURCED_FIELDS)
    if unknown:
        raise ServiceError(_("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))})
    if sourced.status != SourcedLeadStatus.SUBMITTED:
        raise ServiceError(_("推荐线索已%(status)s，不能再修改") % {"status": sourced.get_status_display()})
    current = {name: getattr(sourced, name) for name in SOURCED_FIELDS}
    clean = _clean({**current, **changes})
    diff = {name: value for name, value in clean.items() if current[name] != value}
    with transaction.atomic():
        moved = SourcedLead.objects.filter(
            pk=sourced.pk, version=version, status=SourcedLeadStatus.SUBMITTED
        ).update(**clean, version=version + 1)
        if moved != 1:
            raise _state_refusal(sourced)
        audit.record(
            by,
            "exchange.sourced_lead_update",
            sourced,
            summary=_("修改推荐线索：%(name)s") % {"name": clean["company_name"]},
            detail=diff,  # phones in it are masked by the audit log itself
        )
    for name, value in clean.items():
        setattr(sourced, name, value)
    sourced.version = version + 1
    return sourced


# --- the promoter's decisions -----------------------------------------------------------------------


def _check_decider(by: User, sourced: SourcedLead) -> None:
    if not may_decide(by, sourced):
        raise NotAllowed(_("只有本园区的招商专员可以接收或退回挂职干部推荐的线索"))


def _claim(sourced: SourcedLead, *, by: User, version: int | None, **values: Any) -> None:
    """Move a waiting sourced lead to its decision if nobody decided or changed it since it was read: the
    conditional UPDATE is the guard (one taker wins, on SQLite as on PostgreSQL). In a transaction."""
    if sourced.status != SourcedLeadStatus.SUBMITTED:
        raise _state_refusal(sourced)
    read = sourced.version if version is None else version
    now = timezone.now()
    moved = SourcedLead.objects.filter(
        pk=sourced.pk, version=read, status=SourcedLeadStatus.SUBMITTED
    ).update(decided_by=by, decided_at=now, version=read + 1, **values)
    if moved != 1:
        raise _state_refusal(sourced)
    for name, value in values.items():
        setattr(sourced, name, value)
    sourced.decided_by, sourced.decided_at, sourced.version = by, now, read + 1


def _target_for(sourced: SourcedLead, *, zone: OrgUnit, by: User) -> Target:
    """The zone's target with the sourced lead's USCC, else with its name; else one added to the library."""
    library = Target.objects.filter(zone=zone)
    found = library.filter(uscc=sourced.uscc).first() if sourced.uscc else None
    found = found or library.filter(name=sourced.company_name).first()
    if found is not None:
        return found
    cadre, host = sourced.secondment.cadre, sourced.secondment.host_unit
    notes = _("由挂职干部 %(cadre)s（%(host)s）推荐") % {"cadre": cadre, "host": host}
    if sourced.industry:
        notes = _("所属行业：%(industry)s。%(notes)s") % {"industry": sourced.industry, "notes": notes}
    try:
        return target_services.create_target(
            zone=zone, by=by, name=sourced.company_name, uscc=sourced.uscc, notes=notes
        )
    except ServiceError:
        # Someone added the same company meanwhile (its own savepoint was rolled back): use theirs.
        found = library.filter(uscc=sourced.uscc).first() if sourced.uscc else None
        found = found or library.filter(name=sourced.company_name).first()
        if found is None:
            raise
        return found


def take(
    sourced: SourcedLead,
    *,
    by: User,
    owner: User | None = None,
    node: ChainNode | None = None,
    version: int | None = None,
) -> Lead:
    """A promoter of the zone takes the sourced lead into the investment pipeline: the company is found in
    (or added to) the zone's target library and a Lead with source 挂职干部 is recorded for it, owned by
    `owner` (the taker when None) on `node`, and linked to the sourced lead. One transaction, once."""
    _check_decider(by, sourced)
    secondment = sourced.secondment
    zone = secondment.pairing.zone
    detail = _("挂职干部 %(cadre)s（%(host)s）推荐") % {
        "cadre": secondment.cadre,
        "host": secondment.host_unit,
    }
    summary = sourced.summary
    if sourced.industry:
        summary = _("所属行业：%(industry)s\n%(summary)s") % {
            "industry": sourced.industry,
            "summary": summary,
        }
    contacts = (
        [{"name": sourced.contact_name, "phone": sourced.contact_phone}] if sourced.contact_name else []
    )
    try:
        with transaction.atomic():
            _claim(sourced, by=by, version=version, status=SourcedLeadStatus.TAKEN)
            target = _target_for(sourced, zone=zone, by=by)
            lead = lead_services.create_lead(
                target=target,
                source=LeadSource.SECONDED_CADRE,
                source_detail=detail[: lead_services.SOURCE_DETAIL_MAX],
                node=node,
                owner=owner,
                summary=summary,
                contacts=contacts,
                by=by,
            )
            SourcedLead.objects.filter(pk=sourced.pk).update(lead=lead)
            sourced.lead = lead
            audit.record(
                by,
                "exchange.sourced_lead_take",
                sourced,
                summary=_("推荐线索“%(name)s”转为招商线索") % {"name": sourced.company_name},
                detail={"lead": lead.pk, "target": target.pk, "owner": lead.owner_id, "node": lead.node_id},
            )
    except ServiceError:
        # The claim was rolled back with the rest: the object shows the row as it is again.
        sourced.refresh_from_db()
        raise
    return lead


def decline(sourced: SourcedLead, *, by: User, reason: str, version: int | None = None) -> SourcedLead:
    """A promoter of the zone decides not to follow the sourced lead up, and says why."""
    _check_decider(by, sourced)
    text = _text(reason, label=_("不予跟进原因"), max_length=REASON_MAX, required=True)
    with transaction.atomic():
        _claim(sourced, by=by, version=version, status=SourcedLeadStatus.DECLINED, decline_reason=text)
        audit.record(
            by,
            "exchange.sourced_lead_decline",
            sourced,
            summary=_("推荐线索“%(name)s”不予跟进：%(reason)s")
            % {"name": sourced.company_name, "reason": text},
            detail={"reason": text},
        )
    return sourced
