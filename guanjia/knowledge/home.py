"""What the knowledge app puts on the home page of a department that keeps entries: its drafts, the
questions it answered without an appeal this month, and the zone's portal searches that found nothing."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.core.home import HomeSection, counts_section
from guanjia.core.models import User
from guanjia.knowledge.access import keeps_some_entry
from guanjia.knowledge.models import Entry, EntryStatus, Feedback, Query


def sections(user: User) -> list[HomeSection]:
    if not user.is_authenticated or not user.is_active or user.is_admin_account:
        return []
    if not keeps_some_entry(user) or not Entry.objects.filter(department_id=user.unit_id).exists():
        return []
    now = timezone.localtime()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    zone_id = user.unit.parent_id if user.unit is not None else None
    return [
        counts_section(
            _("知识库"),
            [
                (
                    _("草稿"),
                    Entry.objects.filter(department_id=user.unit_id, status=EntryStatus.DRAFT).count(),
                    False,
                ),
                (
                    _("本月直接解答"),
                    Feedback.objects.filter(
                        entry__department_id=user.unit_id, resolved=True, at__gte=month_start
                    ).count(),
                    False,
                ),
                (
                    _("近30天未找到答案的搜索"),
                    Query.objects.filter(zone_id=zone_id, hits=0, at__gte=now - timedelta(days=30)).count(),
                    True,
                ),
            ],
            "knowledge:list",
            _("维护知识库"),
            order=9,
        )
    ]
