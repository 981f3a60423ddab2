"""What the investment pages share: who reads and who writes, and the keeper's check on an object of the
user's scope. The POST-only actions, a write's refusal shown as a form error or a message, and the
version the user's page showed are any app's (guanjia.core.views_common), imported here too so that the
investment pages name one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from guanjia.core.decorators import AuthedRequest
from guanjia.core.roles import Role
from guanjia.core.views_common import (
    post_action,
    posted_version,
    refusal_as_form_error,
    refusal_as_message,
    version_shown,
)
from guanjia.investment.access import may_keep

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency

__all__ = [
    "KEEPERS",
    "READERS",
    "post_action",
    "posted_version",
    "refusal_as_form_error",
    "refusal_as_message",
    "require_keeper",
    "version_shown",
]

READERS = (Role.PROMOTER, Role.LEADER)
KEEPERS = (Role.PROMOTER,)


def require_keeper(request: AuthedRequest, zone_id: int, refusal: StrOrPromise) -> None:
    """A write on an object of the user's scope: only a promoter of its zone (a leader reads it: 403)."""
    if not may_keep(request.user, zone_id):
        raise PermissionDenied(refusal)
