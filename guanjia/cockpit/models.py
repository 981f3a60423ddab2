"""The cockpit's stored data: generated briefings (周报/月报) and their files."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import OrgUnit, User


class Briefing(models.Model):
    """A 周报 or 月报 of one zone (zone null: the whole city), generated from the KPI module, never typed.

    One per kind, zone and period: the scheduled run skips a briefing that exists, a leader's
    "generate" replaces its files in one transaction (version counts the generations).
    """

    class Kind(models.TextChoices):
        WEEKLY = "weekly", _("周报")
        MONTHLY = "monthly", _("月报")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    zone = models.ForeignKey(
        OrgUnit,
        verbose_name=_("园区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("空：全市"),
    )
    starts_on = models.DateField(_("起始日期"))
    # Exclusive, as kpi.Period's end: a week is [Monday, next Monday).
    ends_on = models.DateField(_("截止日期（不含）"))
    generated_at = models.DateTimeField(_("生成时间"))
    generated_by = models.ForeignKey(
        User,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("空：定时任务生成"),
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("简报")
        verbose_name_plural = _("简报")
        ordering = ["-starts_on", "kind", "zone_id", "id"]
        constraints = [
            # NULLs are distinct in a unique index: the city's briefings (zone null) need their own.
            models.UniqueConstraint(
                fields=["kind", "zone", "starts_on"],
                condition=models.Q(zone__isnull=False),
                name="briefing_unique_zone_period",
            ),
            models.UniqueConstraint(
                fields=["kind", "starts_on"],
                condition=models.Q(zone__isnull=True),
                name="briefing_unique_city_period",
            ),
        ]
        indexes = [models.Index(fields=["zone", "-starts_on"], name="briefing_zone_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_on}"

    @property
    def last_day(self) -> date:
        """The period's last day (ends_on is exclusive)."""
        return self.ends_on - timedelta(days=1)


class BriefingFile(models.Model):
    """A briefing's PDF or Excel, stored with the appeals' attachments (outside the web root, under a
    random key; guanjia.appeals.attachments), so that it is backed up and never served as a static file."""

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "Excel"

    briefing = models.ForeignKey(Briefing, on_delete=models.CASCADE, related_name="files")
    format = models.CharField(_("格式"), max_length=4, choices=Format.choices)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=100, unique=True)

    class Meta:
        verbose_name = _("简报文件")
        verbose_name_plural = _("简报文件")
        ordering = ["briefing", "format"]
        constraints = [
            models.UniqueConstraint(fields=["briefing", "format"], name="briefing_file_unique_format"),
        ]

    def __str__(self) -> str:
        return self.name
