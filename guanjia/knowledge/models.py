"""The knowledge base (知识库): questions and answers by category, kept by the departments of a zone,
searched in Chinese (guanjia.core.search) from the enterprise portal before an appeal is written and
from the dispatcher's desk, so that a common question gets its answer at once instead of a case.

An entry is kept by its department: that department's handlers and head write it, publish it and
archive it (KNOWLEDGE_KEEPERS). A published entry is read by every business account of its zone and
by the users of the zone's enterprises; drafts and archived entries by the keepers and the zone's
dispatchers, supervisors and leaders. An answered 咨询 appeal can become an entry (source_appeal).
Each time an enterprise user says an entry answered its question (Feedback.resolved) the entry counts
a question resolved without an appeal.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import Appeal, AppealCategory
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises.models import Enterprise, EnterpriseMembership

# Who keeps an entry: the handlers and the head of its department.
KNOWLEDGE_KEEPERS = frozenset({Role.HANDLER, Role.DEPARTMENT_HEAD})
# Who reads every entry of their zones, drafts included.
KNOWLEDGE_OVERSEERS = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER})
# The kind of the entries in the shared search index.
SEARCH_KIND = "knowledge.entry"


def _active(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and not user.is_admin_account)


def reader_zone_ids(user: User) -> set[int]:
    """The zones whose published entries `user` reads: its own, and its enterprises' (an enterprise user)."""
    zones = set(user.zone_ids())
    if user.has_role(Role.ENTERPRISE_USER):
        zones |= set(
            EnterpriseMembership.objects.filter(user=user, is_active=True).values_list(
                "enterprise__zone_id", flat=True
            )
        )
    return zones


class EntryStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    ARCHIVED = "archived", _("已停用")


class EntryQuerySet(models.QuerySet["Entry"]):
    def visible_to(self, user: User | None) -> EntryQuerySet:
        """Published entries of the user's zones; every entry of its department (keepers) or of its zones
        (overseers)."""
        if not _active(user):
            return self.none()
        assert user is not None
        if not user.roles:
            return self.none()
        conditions = Q(status=EntryStatus.PUBLISHED, zone_id__in=reader_zone_ids(user))
        if user.has_any_role(KNOWLEDGE_KEEPERS) and user.unit_id:
            conditions |= Q(department_id=user.unit_id)
        if user.has_any_role(KNOWLEDGE_OVERSEERS):
            conditions |= Q(zone_id__in=user.zone_ids())
        return self.filter(conditions)

    def published(self) -> EntryQuerySet:
        return self.filter(status=EntryStatus.PUBLISHED)


class Entry(models.Model):
    """A question and its answer (知识条目), kept by a department and indexed for search when saved."""

    zone = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属园区"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": OrgUnit.Kind.ZONE},
    )
    department = models.ForeignKey(
        OrgUnit,
        verbose_name=_("维护部门"),
        on_delete=models.PROTECT,
        related_name="knowledge_entries",
        limit_choices_to={"kind": OrgUnit.Kind.DEPARTMENT},
    )
    category = models.ForeignKey(
        AppealCategory,
        verbose_name=_("类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    question = models.CharField(_("问题"), max_length=200)
    answer = models.TextField(_("解答"))
    keywords = models.CharField(_("关键词/同义词"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.DRAFT
    )
    source_appeal = models.ForeignKey(
        Appeal, verbose_name=_("来源诉求"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("知识条目")
        verbose_name_plural = _("知识条目")
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["zone", "status"], name="knowledge_zone_status_idx")]

    def __str__(self) -> str:
        return self.question


class Feedback(models.Model):
    """An enterprise user's answer to "did this solve your question?" after reading an entry: resolved,
    or not (and then it is offered to write an appeal). One per user, entry and day; the last word counts."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    enterprise = models.ForeignKey(
        Enterprise, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField()
    resolved = models.BooleanField(_("已解决"))
    query = models.CharField(_("搜索词"), max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("知识库反馈")
        verbose_name_plural = _("知识库反馈")
        constraints = [
            models.UniqueConstraint(fields=["entry", "user", "day"], name="knowledge_feedback_daily")
        ]
        indexes = [models.Index(fields=["entry", "resolved"], name="knowledge_feedback_entry_idx")]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.day} {self.resolved}"


class Query(models.Model):
    """A search made on the enterprise portal and how many entries it found: the questions without an
    answer (hits = 0) show the departments which entries to write."""

    zone = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(_("搜索词"), max_length=200)
    hits = models.PositiveSmallIntegerField(_("结果数"))
    enterprise = models.ForeignKey(
        Enterprise, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("知识库搜索记录")
        verbose_name_plural = _("知识库搜索记录")
        indexes = [models.Index(fields=["zone", "hits", "at"], name="knowledge_query_zone_idx")]

    def __str__(self) -> str:
        return self.text
