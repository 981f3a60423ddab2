"""Appeal categories (诉求类别) and the zones' routing tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import OrgUnit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency


class Handling(models.TextChoices):
    """How much work an answer takes; with urgency it sets the answer's time limit."""

    CONSULT = "consult", _("咨询")
    NORMAL = "normal", _("一般")
    COMPLEX = "complex", _("复杂")


def _days(label: StrOrPromise, default: int, maximum: int = 60) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label, default=default, validators=[MinValueValidator(1), MaxValueValidator(maximum)]
    )


class AppealCategory(models.Model):
    """A node of the category tree; its time limits are in working days (DESIGN.md defaults)."""

    name = models.CharField(_("名称"), max_length=50)
    code = models.SlugField(_("编码"), max_length=40, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)
    accept_days = _days(_("受理时限"), 1)
    sign_days = _days(_("签收时限"), 1)
    answer_days_consult = _days(_("答复时限·咨询"), 3)
    answer_days_normal = _days(_("答复时限·一般"), 5)
    answer_days_complex = _days(_("答复时限·复杂"), 15)
    answer_days_urgent = _days(_("答复时限·紧急"), 1)
    extension_max_days = models.PositiveSmallIntegerField(
        _("延期上限（合计）"), default=30, validators=[MaxValueValidator(60)]
    )

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name

    def answer_days(self, handling: str, *, urgent: bool) -> int:
        """Working days to answer: 紧急 overrides the handling class."""
        if urgent:
            return self.answer_days_urgent
        return {
            Handling.CONSULT: self.answer_days_consult,
            Handling.NORMAL: self.answer_days_normal,
            Handling.COMPLEX: self.answer_days_complex,
        }[Handling(handling)]


class CategoryRoute(models.Model):
    """The routing table: in this zone, appeals of this category go first to this lead department."""

    category = models.ForeignKey(AppealCategory, on_delete=models.CASCADE, related_name="routes")
    zone = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    lead_department = models.ForeignKey(
        OrgUnit, verbose_name=_("默认主办部门"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("分派规则")
        verbose_name_plural = _("分派规则")
        constraints = [
            models.UniqueConstraint(fields=["category", "zone"], name="one_route_per_category_zone")
        ]

    def __str__(self) -> str:
        return f"{self.zone} · {self.category} → {self.lead_department}"
