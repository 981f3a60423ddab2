"""The security policy (安全策略) and the account-protection services that read it.

`policy()` is the one way to read the policy: a process-local copy, refreshed
every SECURITY_POLICY_CACHE_SECONDS and at once in the process that changes
it, so a request costs no query for it. Until the security admin first saves
the policy, its values come from the settings (GUANJIA_LOCKOUT_THRESHOLD and
friends), which therefore stay the defaults of a new installation.

Here too: the password validators registered in AUTH_PASSWORD_VALIDATORS
(length, complexity, history), password changes, and the TOTP second factor's
enrolment, login step and reset. Every change is audited in its transaction.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import receiver
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guanjia.core import audit, totp
from guanjia.core.errors import Conflict, NotAllowed, ServiceError
from guanjia.core.models import PasswordHistory, SecurityPolicy, TotpDevice, User
from guanjia.core.roles import ADMIN_ROLES, Role

if TYPE_CHECKING:
    from django.http import HttpRequest

# Every field the security admin edits, in the order of the page and of the audit detail.
POLICY_FIELDS = (
    "lockout_threshold",
    "lockout_minutes",
    "idle_minutes",
    "session_max_hours",
    "password_min_length",
    "password_complexity",
    "password_history",
    "password_max_age_days",
    "totp_required_for_admins",
    "totp_required_for_staff",
)


def default_policy() -> SecurityPolicy:
    """The policy of a new installation, from the settings; unsaved."""
    return SecurityPolicy(
        lockout_threshold=settings.LOCKOUT_THRESHOLD,
        lockout_minutes=settings.LOCKOUT_MINUTES,
        idle_minutes=max(1, settings.SESSION_COOKIE_AGE // 60),
        session_max_hours=settings.SESSION_MAX_HOURS,
        password_min_length=8,
        password_complexity=True,
        password_history=5,
        password_max_age_days=0,
        totp_required_for_admins=settings.TOTP_REQUIRED_FOR_ADMINS,
        totp_required_for_staff=False,
    )


@dataclass
class _Cached:
    policy: SecurityPolicy | None = None
    saved: bool = False  # read from the row, rather than built from the settings
    until: float = 0.0


_cache = _Cached()
_cache_lock = threading.Lock()


def _remember(current: SecurityPolicy, *, saved: bool) -> None:
    with _cache_lock:
        _cache.policy = current
        _cache.saved = saved
        _cache.until = time.monotonic() + settings.SECURITY_POLICY_CACHE_SECONDS


def policy() -> SecurityPolicy:
    """The security policy in force. Treat it as read-only: change it with update_policy()."""
    cached = _cache.policy
    if cached is not None and time.monotonic() < _cache.until:
        return cached
    current = SecurityPolicy.objects.filter(pk=1).first()
    saved = current is not None
    current = current or default_policy()
    _remember(current, saved=saved)
    return current


def forget_policy() -> None:
    """Read the policy from the database again at the next call."""
    with _cache_lock:
        _cache.policy = None
        _cache.saved = False
        _cache.until = 0.0


def assume_no_saved_policy() -> None:
    """Cache the settings' defaults without a query, as for a database with no policy row (a fresh test)."""
    _remember(default_policy(), saved=False)


@receiver(setting_changed, dispatch_uid="guanjia-security-policy-settings")
def _settings_changed(**kwargs: Any) -> None:
    # override_settings(LOCKOUT_THRESHOLD=...) in a test must reach the defaults at once, and without a
    # query, so that tests counting queries are not disturbed. A saved policy does not depend on them.
    if _cache.policy is not None and not _cache.saved:
        assume_no_saved_policy()


def policy_label(name: str) -> str:
    """A policy field's name as the page shows it."""
    return str(getattr(SecurityPolicy._meta.get_field(name), "verbose_name", name))


def policy_version(row: SecurityPolicy | None) -> str:
    """What a form carries to say which state of the policy it was filled in from ("" before the first save)."""
    return row.updated_at.isoformat() if row is not None and row.updated_at is not None else ""


def update_policy(*, by: User | None, read_version: str | None = None, **values: Any) -> SecurityPolicy:
    """Change the security policy (the security admin's work only); audited with its before and after.

    `read_version` (policy_version of the row the form showed) refuses a save over a change made
    since the page was read, so two security admins never silently undo each other's work.
    """
    if by is None or not by.has_role(Role.SECADMIN):
        raise NotAllowed(_("只有安全管理员可以修改安全策略"))
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"not policy fields: {sorted(unknown)}")
    with transaction.atomic():
        current = SecurityPolicy.objects.select_for_update().filter(pk=1).first()
        if read_version is not None and read_version != policy_version(current):
            raise Conflict(_("安全策略在您打开页面之后已被他人修改，请刷新页面，核对后重新修改"))
        row = current or default_policy()
        before = model_to_dict(row, fields=POLICY_FIELDS)
        for name, value in values.items():
            setattr(row, name, value)
        try:
            row.full_clean(exclude=["updated_by"])
        except ValidationError as exc:
            raise ServiceError("；".join(exc.messages)) from exc
        after = model_to_dict(row, fields=POLICY_FIELDS)
        changed = {
            name: {"before": before[name], "after": after[name]}
            for name in POLICY_FIELDS
            if before[name] != after[name]
        }
        if not changed and current is not None:
            return row
        row.updated_at = timezone.now()
        row.updated_by = by
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError as exc:
            # Two first saves at once: both saw no row and both insert id 1; the second is refused.
            raise Conflict(_("安全策略刚被他人修改，请刷新页面后重试")) from exc
        labels = "、".join(policy_label(name) for name in changed)
        audit.record(
            by,
            "security.policy_change",
            row,
            summary=f"修改安全策略：{labels or '保存默认值'}",
            detail={"before": before, "after": after, "changed": sorted(changed)},
        )
        transaction.on_commit(forget_policy)
    forget_policy()
    return row


# --- Passwords -------------------------------------------------------------------------------------

CHARACTER_CLASSES = ("大写字母", "小写字母", "数字", "符号")


def character_classes(password: str) -> set[str]:
    """Which of the four classes (upper, lower, digit, symbol) a password uses."""
    found = set()
    for char in password:
        if char.isspace():
            continue
        if char.isascii() and char.isupper():
            found.add("大写字母")
        elif char.isascii() and char.islower():
            found.add("小写字母")
        elif char.isascii() and char.isdigit():
            found.add("数字")
        else:
            # Punctuation, and also a Chinese character or any non-Latin letter: each widens the alphabet alike.
            found.add("符号")
    return found


class PolicyPasswordValidator:
    """Length and complexity as the security policy sets them (replaces Django's MinimumLengthValidator)."""

    def validate(self, password: str, user: User | None = None) -> None:
        current = policy()
        errors = []
        if len(password) < current.password_min_length:
            errors.append(
                ValidationError(
                    ngettext(
                        "密码太短，至少需要 %(min_length)d 个字符。",
                        "密码太短，至少需要 %(min_length)d 个字符。",
                        current.password_min_length,
                    ),
                    code="password_too_short",
                    params={"min_length": current.password_min_length},
                )
            )
        if current.password_complexity:
            classes = character_classes(password)
            if len(classes) < 3:
                missing = [name for name in CHARACTER_CLASSES if name not in classes]
                errors.append(
                    ValidationError(
                        _("密码须包含大写字母、小写字母、数字、符号中的至少三类，当前缺少：%(missing)s。"),
                        code="password_too_simple",
                        params={"missing": "、".join(missing)},
                    )
                )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        current = policy()
        text = _("至少 %(n)d 个字符") % {"n": current.password_min_length}
        if current.password_complexity:
            text += _("，须包含大写字母、小写字母、数字、符号中的至少三类")
        return text + "。"


class PasswordHistoryValidator:
    """Refuses the user's current password and the last N it had (N from the policy)."""

    def validate(self, password: str, user: User | None = None) -> None:
        if user is None or user.pk is None:
            return
        count = policy().password_history
        if not count:
            return
        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-id")
            .values_list("password", flat=True)[:count]
        )
        # The stored hash too: accounts from before the history began have no history row.
        stored = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        if stored and stored not in hashes:
            hashes.append(stored)
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(
                _("新密码不能与最近 %(n)d 次使用过的密码相同。"), code="password_reused", params={"n": count}
            )

    def get_help_text(self) -> str:
        count = policy().password_history
        return _("不能与最近 %(n)d 次使用过的密码相同。") % {"n": count} if count else ""


def password_change_reason(user: User, current: SecurityPolicy | None = None) -> str | None:
    """Why the user must change the password before anything else: 'initial', 'expired', or None."""
    if user.must_change_password:
        return "initial"
    current = current or policy()
    if (
        current.password_max_age_days
        and user.password_changed_at is not None
        and user.password_changed_at <= timezone.now() - timedelta(days=current.password_max_age_days)
    ):
        return "expired"
    return None


def change_password(user: User, new_password: str, *, ip: str | None = None) -> None:
    """The user sets its own new password (already validated by the form); clears a forced change."""
    reason = password_change_reason(user)
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "password_changed_at", "must_change_password"])
        audit.record(
            user,
            "auth.password_change",
            user,
            summary=f"{user.username} 修改密码"
            + ({"initial": "（初始密码）", "expired": "（密码已过期）"}.get(reason or "", "")),
            detail={"reason": reason or "voluntary"},
            ip=ip,
        )


# --- Who needs the second factor ------------------------------------------------------------------


def may_use_totp(user: User) -> bool:
    """Staff and administrator accounts; an enterprise's user signs in with its password only."""
    return not (user.roles and user.roles <= {Role.ENTERPRISE_USER})


def totp_required(user: User, current: SecurityPolicy | None = None) -> bool:
    current = current or policy()
    if current.totp_required_for_admins and user.has_any_role(ADMIN_ROLES):
        return True
    return bool(current.totp_required_for_staff and user.roles and may_use_totp(user))


def active_device(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def has_totp(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def _use_code(device: TotpDevice, code: str) -> bool:
    """Accept a code for the device at most once: the step is claimed by a conditional update."""
    try:
        secret = totp.open_secret(device.secret)
    except totp.SecretUnreadable:
        return False
    counter = totp.matching_counter(secret, code, after=device.last_counter)
    if counter is None:
        return False
    # Two requests with the same code at once: only the one whose update moves the step wins.
    claimed = (
        TotpDevice.objects.filter(pk=device.pk)
        .filter(Q(last_counter__isnull=True) | Q(last_counter__lt=counter))
        .update(last_counter=counter)
    )
    if claimed == 1:
        device.last_counter = counter
    return claimed == 1


# --- Enrolment ---------------------------------------------------------------------------------------


@dataclass
class Enrolment:
    secret: str
    uri: str
    qr_svg: str

    @property
    def grouped(self) -> str:
        return totp.group(self.secret)


def pending_enrolment(user: User) -> Enrolment:
    """The user's unconfirmed secret, created on first call (a confirmed device is left alone)."""
    if not may_use_totp(user):
        raise NotAllowed(_("企业用户账号不使用两步验证"))
    device = TotpDevice.objects.filter(user=user).first()
    if device is not None and device.confirmed_at is not None:
        raise ServiceError(_("两步验证已启用"))
    secret = None
    if device is not None:
        try:
            secret = totp.open_secret(device.secret)
        except totp.SecretUnreadable:
            secret = None
    if secret is None:
        secret = totp.new_secret()
        TotpDevice.objects.update_or_create(
            user=user,
            defaults={"secret": totp.seal_secret(secret), "created_at": timezone.now(), "last_counter": None},
        )
    issuer = _("管家")
    uri = totp.provisioning_uri(secret, account=user.username, issuer=issuer)
    return Enrolment(secret=secret, uri=uri, qr_svg=totp.qr_svg(uri, title=_("两步验证二维码")))


def confirm_totp(user: User, code: str, *, ip: str | None = None) -> None:
    """Activate the pending secret once the user shows a code from its app."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is None:
            raise ServiceError(_("请先扫描二维码，再输入验证码"))
        if device.confirmed_at is not None:
            raise ServiceError(_("两步验证已启用"))
        if not _use_code(device, code):
            raise ServiceError(_("验证码不正确，请确认手机时间准确后输入应用中当前显示的 6 位数字"))
        TotpDevice.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
        audit.record(user, "auth.totp_enable", user, summary=f"{user.username} 启用两步验证", ip=ip)


def disable_totp(user: User, code: str, *, ip: str | None = None) -> None:
    """The user turns its second factor off; it proves possession with a current code."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
        if device is None:
            raise ServiceError(_("两步验证未启用"))
        if not _use_code(device, code):
            audit.record(
                user, "auth.totp_failed", user, summary=f"{user.username} 停用两步验证时验证码错误", ip=ip
            )
            raise ServiceError(_("验证码不正确，两步验证未停用"))
        TotpDevice.objects.filter(pk=device.pk).delete()
        audit.record(user, "auth.totp_disable", user, summary=f"{user.username} 停用两步验证", ip=ip)


def reset_totp(user: User, *, by: User | None) -> None:
    """The security admin removes a user's authenticator (lost phone); the user enrols again."""
    if by is None or not by.has_role(Role.SECADMIN):
        raise NotAllowed(_("只有安全管理员可以重置两步验证"))
    if by.pk == user.pk:
        raise NotAllowed(_("不能重置自己的两步验证，请在“两步验证”页面用当前验证码停用后重新绑定"))
    with transaction.atomic():
        deleted, _details = TotpDevice.objects.filter(user=user).delete()
        if not deleted:
            raise ServiceError(_("%(user)s 没有绑定两步验证") % {"user": user.username})
        audit.record(by, "auth.totp_reset", user, summary=f"重置 {user.username} 的两步验证")


# --- The login's second step -----------------------------------------------------------------------

PENDING_KEY = "guanjia_totp_pending"
# The second step must follow the first soon: a half-done login does not wait for ever.
PENDING_SECONDS = 300


def begin_totp_login(request: HttpRequest, user: User, *, next_url: str) -> None:
    """The password was right: remember who is half logged in, without logging in."""
    # A new session key: whatever the browser held before the password step is not carried on.
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
        "since": timezone.now().timestamp(),
        "next": next_url,
    }


def pending_totp_login(request: HttpRequest) -> tuple[User, dict] | None:
    """The half-logged-in user and its state, or None (absent, expired, account gone or disabled)."""
    state = request.session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    if timezone.now().timestamp() - float(state.get("since", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user_id = state.get("user")
    user = User.objects.filter(pk=user_id, is_active=True).first() if isinstance(user_id, int) else None
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return None
    return user, state


class LoginLocked(ServiceError):
    """The account is locked (now or by this failure)."""


def check_login_code(request: HttpRequest, user: User, code: str) -> None:
    """Check the second step's code. A wrong code counts toward the lockout like a wrong password."""
    from guanjia.core.http import client_ip
    from guanjia.core.services import note_login_failure

    if user.is_locked():
        request.session.pop(PENDING_KEY, None)
        raise LoginLocked(_locked_message(user))
    device = active_device(user)
    if device is not None and _use_code(device, code):
        User.objects.filter(pk=user.pk).filter(Q(failed_logins__gt=0) | Q(locked_until__isnull=False)).update(
            failed_logins=0, locked_until=None
        )
        return
    current = policy()
    locked = note_login_failure(
        user.username,
        ip=client_ip(request),
        threshold=current.lockout_threshold,
        minutes=current.lockout_minutes,
        action="auth.totp_failed",
    )
    if locked is not None and locked.is_locked():
        request.session.pop(PENDING_KEY, None)
        raise LoginLocked(_locked_message(locked))
    raise ServiceError(
        _("验证码不正确。连续失败 %(threshold)s 次后账号将被锁定。")
        % {"threshold": current.lockout_threshold}
    )


def _locked_message(user: User) -> str:
    until = timezone.localtime(user.locked_until).strftime("%H:%M") if user.locked_until else ""
    return _("账号因连续登录失败已被锁定，请于 %(until)s 后重试，或联系安全管理员解锁。") % {"until": until}


def locked_accounts():
    """Accounts locked now, for the security admin: lock end and failure count."""
    return User.objects.filter(locked_until__gt=timezone.now()).order_by("locked_until", "username")
