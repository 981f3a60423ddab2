"""Login and logout go into the audit log."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from guanjia.core import audit
from guanjia.core.http import client_ip


@receiver(user_logged_in, dispatch_uid="guanjia-audit-login")
def _logged_in(sender, request, user, **kwargs) -> None:
    audit.record(user, "auth.login", user, summary=f"{user.username} 登录", ip=client_ip(request))


@receiver(user_logged_out, dispatch_uid="guanjia-audit-logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit.record(user, "auth.logout", user, summary=f"{user.username} 退出", ip=client_ip(request))
