"""Smart dispatch (智能分派): routing models learned from a zone's own dispatched appeals, the
suggestions they gave and whether the dispatcher took them, the keyword rules that stand in while a
zone has too little history, and the MinHash bands that find similar appeals (共性问题).

The bands live in a table, not in a worker's memory (DESIGN.md, "Platform mechanics"): every web
worker and the huey consumer share one index, and none holds it in RAM.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.models import Appeal, AppealCategory
from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role

# Who runs a zone's routing: retrains its model, edits the keyword rules (with the system admin).
ROUTING_KEEPERS = frozenset({Role.DISPATCHER})
# Who reads the routing page (model, its scores, the adoption rate) of their zones.
ROUTING_READERS = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER})


class Source(models.TextChoices):
    MODEL = "model", _("历史学习模型")
    RULES = "rules", _("关键词规则")


class RoutingModel(models.Model):
    """One training run of a zone's routing model; the active one answers the suggestions.

    A run trained on the zone's history is scored on a held-out slice (the most recent dispatched
    appeals) together with the model then active; it is promoted only if it scores no worse. Runs that
    were not promoted are kept, with the reason, so the routing page shows the history.
    """

    zone = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("训练时间"))
    trained_by = models.ForeignKey(
        User, verbose_name=_("发起人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    algorithm = models.CharField(_("算法"), max_length=80)
    samples = models.PositiveIntegerField(_("训练样本数"), default=0)
    classes = models.PositiveIntegerField(_("类别数"), default=0)
    held_out = models.PositiveIntegerField(_("留出样本数"), default=0)
    held_out_accuracy = models.FloatField(_("留出集准确率"), null=True, blank=True)
    held_out_macro_f1 = models.FloatField(_("留出集宏平均F1"), null=True, blank=True)
    # The active model's accuracy on the same held-out slice, when there was one.
    previous_accuracy = models.FloatField(_("原模型留出集准确率"), null=True, blank=True)
    is_active = models.BooleanField(_("当前使用"), default=False)
    note = models.TextField(_("说明"), blank=True)
    # The model learns departments; each department's categories in its history, most frequent first
    # ({"12": [3, 7]}), give the category a suggestion dispatches under (routing._category_for).
    categories = models.JSONField(default=dict, blank=True)
    # The fitted pipeline, pickled by learning.dump(); read only from this database, never from uploads.
    blob = models.BinaryField(editable=False)

    class Meta:
        verbose_name = _("分派模型")
        verbose_name_plural = _("分派模型")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["zone"], condition=Q(is_active=True), name="one_active_routing_model"
            )
        ]

    def __str__(self) -> str:
        return f"{self.zone} · {self.created_at:%Y-%m-%d %H:%M}"


class KeywordRule(models.Model):
    """The words that point an appeal to a category, used while a zone has too little history."""

    category = models.OneToOneField(
        AppealCategory, verbose_name=_("诉求类别"), on_delete=models.CASCADE, related_name="keyword_rule"
    )
    words = models.TextField(_("关键词"), help_text=_("以空格或逗号分隔"))
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("分派关键词规则")
        verbose_name_plural = _("分派关键词规则")
        ordering = ["category__position", "category__code"]

    def __str__(self) -> str:
        return str(self.category)

    def word_list(self) -> list[str]:
        return [word for word in self.words.replace("，", " ").replace(",", " ").split() if word]


class Suggestion(models.Model):
    """The suggestions shown for one dispatch of an appeal, and which of them the dispatcher took.

    One row per dispatch round (the first dispatch, and each re-dispatch after a return); `taken_rank`
    is set when the appeal is dispatched: 1–3 for the suggestion whose department was chosen as lead,
    0 for another department. The 首选采纳率 is rank 1 among the rows dispatched.
    """

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="+")
    zone = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(
        RoutingModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(_("生成时间"))
    # [{"category": id, "department": id, "confidence": 0.83, "words": ["留抵", "退税"]}, ...] best first.
    ranked = models.JSONField(default=list)
    dispatched_at = models.DateTimeField(_("交办时间"), null=True, blank=True)
    dispatched_department = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_rank = models.PositiveSmallIntegerField(_("采纳名次"), null=True, blank=True)
    one_click = models.BooleanField(_("一键交办"), default=False)

    class Meta:
        verbose_name = _("分派建议")
        verbose_name_plural = _("分派建议")
        indexes = [
            models.Index(fields=["zone", "dispatched_at"], name="suggestion_adoption_idx"),
            models.Index(fields=["appeal", "dispatched_at"], name="suggestion_open_idx"),
        ]
        constraints = [
            # One open round per appeal: two desks opening it at once record one row (routing._round).
            models.UniqueConstraint(
                fields=["appeal"], condition=Q(dispatched_at__isnull=True), name="one_open_suggestion"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.appeal_id} {self.source}"


class AppealBand(models.Model):
    """One MinHash LSH band of one appeal: appeals sharing a band key are candidates of each other.

    `key` folds the band's number and its rows' minimum hashes into one signed 64-bit integer, so a
    lookup is one indexed equality per band. Maintained by similar.remember() as appeals arrive.
    """

    key = models.BigIntegerField()
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="+", db_index=False)
    zone = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        verbose_name = _("相似诉求索引")
        verbose_name_plural = _("相似诉求索引")
        indexes = [
            models.Index(fields=["key", "zone", "appeal"], name="appealband_lookup_idx"),
            models.Index(fields=["appeal"], name="appealband_appeal_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id}:{self.key}"
