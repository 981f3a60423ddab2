"""Writes on the enterprise registry: enterprises, stewards, invitations. Each one audited."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, IntegerField, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core import audit, outbox
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import OrgUnit, RoleGrant, User
from guanjia.core.roles import REGISTRY_KEEPERS, Role
from guanjia.core.services import check_new_password
from guanjia.enterprises import signals
from guanjia.enterprises.models import (
    TIER_ORDER,
    Contact,
    Enterprise,
    EnterpriseMembership,
    Invitation,
    StewardAssignment,
    Tag,
    Tier,
)
from guanjia.enterprises.uscc import clean_uscc

# Load weight of an enterprise for balancing stewards: a 重点 enterprise is visited
# monthly, 规上 every two months, 一般 quarterly (DESIGN.md cadence).
TIER_WEIGHT = {Tier.KEY: 3, Tier.ABOVE_SCALE: 2, Tier.GENERAL: 1}

EDITABLE_FIELDS = (
    "name",
    "legal_representative",
    "founded_on",
    "registered_capital",
    "scale",
    "tier",
    "industry_section",
    "industry_division",
    "address",
)


def can_keep_registry(user: User, zone_id: int | None) -> bool:
    """Dispatchers and supervisors keep the registry of the zones they see."""
    return user.has_any_role(REGISTRY_KEEPERS) and (zone_id is None or zone_id in user.zone_ids())


def can_edit(user: User, enterprise: Enterprise) -> bool:
    return can_keep_registry(user, enterprise.zone_id) or (
        user.has_role(Role.STEWARD) and enterprise.steward_id == user.pk
    )


def _check_zone(zone: OrgUnit) -> None:
    if zone.kind != OrgUnit.Kind.ZONE:
        raise ServiceError(_("“%(zone)s”不是园区或县区，企业只能归属一个园区") % {"zone": zone})


def create_enterprise(
    *, data: dict[str, Any], zone: OrgUnit, tags: Iterable[Tag] = (), contacts: Iterable[dict] = (), by: User
) -> Enterprise:
    """Register an enterprise in a zone."""
    if not can_keep_registry(by, zone.pk):
        raise NotAllowed(_("只有本园区的受理员或效能督查可以新增企业"))
    return register_enterprise(data=data, zone=zone, tags=tags, contacts=contacts, by=by)


def register_enterprise(
    *, data: dict[str, Any], zone: OrgUnit, tags: Iterable[Tag] = (), contacts: Iterable[dict] = (), by: User
) -> Enterprise:
    """Enter an enterprise in a zone's registry, for a caller that has checked `by`'s right itself
    (create_enterprise; investment's registration of a landed project)."""
    _check_zone(zone)
    try:
        uscc = clean_uscc(data.get("uscc", ""))
    except ValidationError as exc:
        raise ServiceError(exc.messages[0]) from exc
    with transaction.atomic():
        if Enterprise.objects.filter(uscc=uscc).exists():
            raise ServiceError(_("统一社会信用代码 %(uscc)s 已登记") % {"uscc": uscc})
        fields = {key: data[key] for key in EDITABLE_FIELDS if key in data}
        try:
            enterprise = Enterprise.objects.create(uscc=uscc, zone=zone, **fields)
        except IntegrityError as exc:
            raise ServiceError(_("统一社会信用代码 %(uscc)s 已登记") % {"uscc": uscc}) from exc
        enterprise.tags.set(list(tags))
        for contact in contacts:
            Contact.objects.create(enterprise=enterprise, **contact)
        audit.record(by, "enterprise.create", enterprise, summary=f"新增企业 {enterprise.name}（{uscc}）")
    return enterprise


def update_enterprise(
    enterprise: Enterprise, *, data: dict[str, Any], tags: Iterable[Tag] | None = None, by: User
) -> Enterprise:
    """Change an enterprise's registry fields; a concurrent edit loses with a clear message."""
    if not can_edit(by, enterprise):
        raise NotAllowed(_("您无权修改该企业信息"))
    changes = {
        key: value
        for key, value in data.items()
        if key in EDITABLE_FIELDS and getattr(enterprise, key) != value
    }
    with transaction.atomic():
        updated = Enterprise.objects.filter(pk=enterprise.pk, version=enterprise.version).update(
            version=enterprise.version + 1, updated_at=timezone.now(), **changes
        )
        if updated != 1:
            raise Conflict(_("该企业信息已被他人修改，请刷新后再编辑"))
        if tags is not None:
            enterprise.tags.set(list(tags))
        audit.record(
            by,
            "enterprise.update",
            enterprise,
            summary=f"修改企业 {enterprise.name}",
            detail={"fields": sorted(changes), "tags_changed": tags is not None},
        )
        if changes:
            signals.enterprises_changed.send(sender=Enterprise, ids=[enterprise.pk])
    for key, value in changes.items():
        setattr(enterprise, key, value)
    enterprise.version += 1
    return enterprise


def save_contact(
    enterprise: Enterprise, *, data: dict[str, Any], contact: Contact | None = None, by: User
) -> Contact:
    if not can_edit(by, enterprise):
        raise NotAllowed(_("您无权修改该企业的联系人"))
    with transaction.atomic():
        if contact is None:
            contact = Contact.objects.create(enterprise=enterprise, **data)
            action = "enterprise.contact_add"
        else:
            Contact.objects.filter(pk=contact.pk, enterprise=enterprise).update(**data)
            action = "enterprise.contact_update"
        audit.record(
            by, action, enterprise, summary=f"{enterprise.name} 联系人 {data.get('name', contact.name)}"
        )
    return contact


def _is_steward_for_zone(steward: User, zone_id: int) -> bool:
    return steward.is_active and steward.has_role(Role.STEWARD) and zone_id in steward.zone_ids()


def assign_steward(
    enterprise: Enterprise, steward: User, *, reason: str, by: User | None
) -> StewardAssignment:
    """Make `steward` the one active steward of `enterprise`, closing the previous assignment.

    Two people reassigning at once: the conditional update on the enterprise's
    version lets one through; the partial unique index on active assignments
    holds even for a writer that skipped this function.
    """
    if by is not None and not can_keep_registry(by, enterprise.zone_id):
        raise NotAllowed(_("只有本园区的受理员或效能督查可以调整服务管家"))
    if not _is_steward_for_zone(steward, enterprise.zone_id):
        raise ServiceError(_("%(steward)s 不是该企业所在园区的服务管家") % {"steward": steward})
    if enterprise.steward_id == steward.pk:
        raise ServiceError(
            _("%(steward)s 已是 %(enterprise_name)s 的服务管家")
            % {"steward": steward, "enterprise_name": enterprise.name}
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            moved = Enterprise.objects.filter(pk=enterprise.pk, version=enterprise.version).update(
                steward=steward, version=enterprise.version + 1, updated_at=now
            )
            if moved != 1:
                raise Conflict(
                    _("%(enterprise_name)s 的服务管家刚被他人调整，请刷新后重试")
                    % {"enterprise_name": enterprise.name}
                )
            StewardAssignment.objects.filter(enterprise=enterprise, ended_at__isnull=True).update(
                ended_at=now
            )
            assignment = StewardAssignment.objects.create(
                enterprise=enterprise, steward=steward, started_at=now, reason=reason, assigned_by=by
            )
            audit.record(
                by,
                "enterprise.assign_steward",
                enterprise,
                summary=f"{enterprise.name} 的服务管家调整为 {steward}",
                detail={"from": enterprise.steward_id, "to": steward.pk, "reason": reason},
            )
            signals.steward_changed.send(
                sender=Enterprise,
                enterprise=enterprise,
                previous_id=enterprise.steward_id,
                steward=steward,
                by=by,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("%(enterprise_name)s 的服务管家刚被他人调整，请刷新后重试")
            % {"enterprise_name": enterprise.name}
        ) from exc
    enterprise.steward = steward
    enterprise.version += 1
    return assignment


def stewards_of_zones(zone_ids: list[int]):
    """Active stewards working in the given zones (in the zone's unit or one of its departments)."""
    return (
        User.objects.filter(role_grants__role=Role.STEWARD, is_active=True)
        .filter(Q(unit_id__in=zone_ids) | Q(unit__parent_id__in=zone_ids))
        .order_by("username")
    )


@dataclass
class StewardLoad:
    steward: User
    enterprises: int
    weighted: int


def steward_loads(zone_id: int) -> list[StewardLoad]:
    """Every active steward of a zone with its load, lightest first (the balancing suggestion)."""
    weight = Case(
        *[When(stewarded_enterprises__tier=tier, then=Value(w)) for tier, w in TIER_WEIGHT.items()],
        default=Value(1),
        output_field=IntegerField(),
    )
    stewards = (
        stewards_of_zones([zone_id])
        .annotate(n=Count("stewarded_enterprises"), w=Sum(weight))
        .order_by("w", "n", "username")
    )
    return [StewardLoad(s, s.n, s.w or 0) for s in stewards]


def suggest_steward(zone_id: int, *, exclude: User | None = None) -> User | None:
    """The steward of the zone with the lightest weighted load."""
    for load in steward_loads(zone_id):
        if exclude is None or load.steward.pk != exclude.pk:
            return load.steward
    return None


def handover(
    from_steward: User, *, to: User | None, reason: str, by: User, zone_id: int | None = None
) -> list[StewardAssignment]:
    """A leaving steward's enterprises go to `to`, or, with to=None, each to the lightest-loaded peer."""
    enterprises = list(Enterprise.objects.filter(steward=from_steward).order_by(TIER_ORDER, "name"))
    if zone_id is not None:
        enterprises = [e for e in enterprises if e.zone_id == zone_id]
    if not enterprises:
        raise ServiceError(_("%(from_steward)s 名下没有企业需要移交") % {"from_steward": from_steward})
    for enterprise in enterprises:
        if not can_keep_registry(by, enterprise.zone_id):
            raise NotAllowed(_("只有本园区的受理员或效能督查可以移交企业"))
    done = []
    with transaction.atomic():
        for enterprise in enterprises:
            target = to or suggest_steward(enterprise.zone_id, exclude=from_steward)
            if target is None:
                raise ServiceError(
                    _("%(enterprise_zone)s 没有其他可接手的服务管家") % {"enterprise_zone": enterprise.zone}
                )
            done.append(assign_steward(enterprise, target, reason=reason or "管家交接", by=by))
        audit.record(
            by,
            "enterprise.handover",
            from_steward,
            summary=f"{from_steward} 的 {len(done)} 家企业完成交接",
            detail={"to": to.pk if to else "balanced", "count": len(done)},
        )
    return done


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def invite_enterprise_user(
    enterprise: Enterprise, *, name: str, phone: str = "", email: str = "", by: User
) -> tuple[Invitation, str]:
    """A steward invites a person of its enterprise; returns the invitation and its one-time link token."""
    if not (by.has_role(Role.STEWARD) and enterprise.steward_id == by.pk):
        raise NotAllowed(_("只有该企业的服务管家可以邀请企业用户"))
    if not phone and not email:
        raise ServiceError(_("请填写被邀请人的手机号或邮箱，用于发送邀请链接"))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            enterprise=enterprise,
            name=name,
            phone=phone,
            email=email,
            token_hash=_token_hash(token),
            created_by=by,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_DAYS),
        )
        link = invitation_link(token)
        # The message carries the link only: no enterprise name, no personal data.
        payload = {
            "text": _("您收到企业服务平台的账号邀请，请点击链接设置密码"),
            "link": link,
            "ref": invitation.pk,
        }
        if phone:
            outbox.enqueue("sms", phone, payload=payload)
        if email:
            outbox.enqueue("email", email, subject=_("企业服务平台账号邀请"), payload=payload)
        audit.record(
            by,
            "enterprise.invite",
            enterprise,
            summary=f"邀请 {enterprise.name} 的企业用户",
            detail={"invitation": invitation.pk},
        )
    return invitation, token


def invitation_link(token: str) -> str:
    """The link the invitee opens: on the public portal address (GUANJIA_SITE_URL), not the intranet's."""
    return f"{settings.SITE_URL}/invite/{token}/"


def open_invitation(token: str) -> Invitation:
    invitation = Invitation.objects.select_related("enterprise").filter(token_hash=_token_hash(token)).first()
    if invitation is None:
        raise ServiceError(_("邀请链接无效"))
    if invitation.accepted_at:
        raise ServiceError(_("该邀请已被使用，请直接登录"))
    if invitation.revoked_at or invitation.expires_at <= timezone.now():
        raise ServiceError(_("邀请链接已过期，请联系您的服务管家重新邀请"))
    return invitation


def accept_invitation(token: str, *, uscc: str, username: str, password: str) -> User:
    """The invitee proves the enterprise's USCC and sets its own password."""
    invitation = open_invitation(token)
    if uscc.strip().upper() != invitation.enterprise.uscc:
        raise ServiceError(_("统一社会信用代码与邀请企业不一致"))
    if User.objects.filter(username=username).exists():
        raise ServiceError(_("用户名“%(username)s”已被使用，请换一个") % {"username": username})
    check_new_password(password, username=username, full_name=invitation.name)
    with transaction.atomic():
        if (
            Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
                accepted_at=timezone.now()
            )
            != 1
        ):
            raise Conflict(_("该邀请已被使用，请直接登录"))
        user = User.objects.create_user(
            username=username,
            password=password,
            full_name=invitation.name,
            phone=invitation.phone,
            email=invitation.email,
        )
        RoleGrant.objects.create(user=user, role=Role.ENTERPRISE_USER, granted_by=invitation.created_by)
        EnterpriseMembership.objects.create(user=user, enterprise=invitation.enterprise)
        Invitation.objects.filter(pk=invitation.pk).update(accepted_user=user)
        audit.record(
            user,
            "enterprise.invitation_accepted",
            invitation.enterprise,
            summary=f"{username} 接受邀请，绑定企业 {invitation.enterprise.uscc}",
            detail={"invitation": invitation.pk},
        )
    return user
