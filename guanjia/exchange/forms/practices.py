"""Forms of the practice pages, and the practice list's filters (shared by the list page and the API)."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.kpi import KPIS
from guanjia.core.models import OrgUnit, User
from guanjia.exchange import practices as services
from guanjia.exchange.access import today
from guanjia.exchange.models import Adoption, AdoptionStage, Practice, Secondment

SEARCH_MAX = 100
KPI_CHOICES = [(code, label) for code, label in KPIS.items()]
# The list's groups: practices by the furthest stage any unit has reached, or none yet.
FURTHEST_CHOICES = [(services.NOT_ADOPTED, _("未采纳")), *AdoptionStage.choices]


def _style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        widget.attrs.setdefault(
            "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
        )


def _user_of(request: HttpRequest | None) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


def zones_of(user: User | None) -> QuerySet[OrgUnit]:
    """The zones a user works in (a city's user: all its zones), in code order."""
    ids = user.zone_ids() if user is not None else []
    return OrgUnit.objects.filter(pk__in=ids, kind=OrgUnit.Kind.ZONE).order_by("code")


class SecondmentChoiceField(forms.ModelChoiceField):
    """A secondment named by its cadre, host unit and period."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.cadre} · {obj.host_unit}（{obj.starts_on:%Y-%m-%d} 至 {obj.ends_on:%Y-%m-%d}）"


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj) if obj.kind == OrgUnit.Kind.DEPARTMENT else f"{obj}（{_('全园区')}）"


# --- the list's filters ---------------------------------------------------------------------------------


class PracticeFilter(django_filters.FilterSet):
    """The practice list's filters, each left empty does not filter."""

    stage = django_filters.ChoiceFilter(
        label=_("采纳进度"),
        choices=FURTHEST_CHOICES,
        method="by_stage",
        empty_label=_("全部"),
        help_text=_("按各采纳单位中走得最远的阶段：none 未采纳，reference 借鉴，trial 试行，rollout 推广"),
    )
    kpi = django_filters.ChoiceFilter(
        label=_("效果指标"),
        choices=KPI_CHOICES,
        method="by_kpi",
        empty_label=_("全部指标"),
        help_text=_("有采纳单位以该指标衡量成效的经验做法"),
    )
    zone = django_filters.ModelChoiceFilter(
        label=_("所属园区"),
        field_name="zone",
        queryset=lambda request: zones_of(_user_of(request)),
        empty_label=_("全部园区"),
        help_text=_("园区 id"),
    )
    search = django_filters.CharFilter(
        label=_("搜索"),
        method="by_text",
        max_length=SEARCH_MAX,
        help_text=_("经验做法名称、内容、学习地点或学习人中含有的文字"),
    )

    class Meta:
        model = Practice
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self.form)

    def by_stage(self, queryset: QuerySet[Practice], name: str, value: str) -> QuerySet[Practice]:
        return services.filter_furthest(queryset, value)

    def by_kpi(self, queryset: QuerySet[Practice], name: str, value: str) -> QuerySet[Practice]:
        return queryset.filter(pk__in=Adoption.objects.filter(kpi=value).values("practice_id"))

    def by_text(self, queryset: QuerySet[Practice], name: str, value: str) -> QuerySet[Practice]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(
            Q(title__icontains=text)
            | Q(description__icontains=text)
            | Q(seen_at__icontains=text)
            | Q(learned_by__icontains=text)
        )


def units_of(user: User | None) -> QuerySet[OrgUnit]:
    """The units of a user's zones that may adopt a practice: the zones and their departments."""
    zones = user.zone_ids() if user is not None else []
    return OrgUnit.objects.filter(Q(pk__in=zones) | Q(parent_id__in=zones, kind=OrgUnit.Kind.DEPARTMENT))


class AdoptionFilter(django_filters.FilterSet):
    """The adoption list's filters (API)."""

    practice = django_filters.ModelChoiceFilter(
        label=_("经验做法"),
        field_name="practice",
        queryset=lambda request: Practice.objects.visible_to(_user_of(request)),
        help_text=_("经验做法 id"),
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("采纳单位"),
        field_name="unit",
        queryset=lambda request: units_of(_user_of(request)),
        help_text=_("采纳单位 id：园区或其部门"),
    )
    stage = django_filters.ChoiceFilter(label=_("阶段"), choices=AdoptionStage.choices)
    kpi = django_filters.ChoiceFilter(label=_("效果指标"), choices=KPI_CHOICES)

    class Meta:
        model = Adoption
        fields: list[str] = []


# --- writing ------------------------------------------------------------------------------------------------


class PracticeForm(forms.Form):
    """A new practice, or the edit of one. A supervisor chooses the zone (when it has several) and may name
    the secondment it came from; a cadre names one of its own secondments, and on an edit keeps it."""

    zone = forms.ModelChoiceField(label=_("所属园区"), queryset=OrgUnit.objects.none(), empty_label=None)
    secondment = SecondmentChoiceField(
        label=_("来自挂职"),
        queryset=Secondment.objects.none(),
        required=False,
        empty_label=_("（不来自挂职）"),
    )
    title = forms.CharField(label=_("经验做法"), max_length=services.TITLE_MAX)
    description = forms.CharField(
        label=_("做法内容"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("做什么、怎么做，例如：早九晚五、中午不下班，窗口轮流就餐"),
    )
    seen_at = forms.CharField(
        label=_("学习地点"),
        max_length=services.SEEN_AT_MAX,
        required=False,
        help_text=_("在哪个单位看到或学到；来自挂职时可不填，取挂职单位"),
    )
    learned_by = forms.CharField(
        label=_("学习人"),
        max_length=services.LEARNED_BY_MAX,
        required=False,
        help_text=_("谁学到的；来自挂职时可不填，取挂职干部"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, practice: Practice | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        keeper = services.may_keep(user) if practice is None else services.may_keep_practice(user, practice)
        self.keeper = keeper
        zone = cast(forms.ModelChoiceField, self.fields["zone"])
        secondment = cast(forms.ModelChoiceField, self.fields["secondment"])
        if practice is not None or not keeper:
            # The zone follows the secondment (a cadre's), or stays as it is (an edit).
            del self.fields["zone"]
        else:
            zone.queryset = zones_of(user)
        if not keeper:
            if practice is not None:
                del self.fields["secondment"]  # a cadre's practice stays with its secondment
            else:
                secondment.queryset = services.secondments_for(user)
                secondment.required = True
                secondment.empty_label = _("请选择您的挂职")
        else:
            found = services.secondments_for(user)
            if practice is not None:
                found = found.filter(pairing__zone_id=practice.zone_id)
            secondment.queryset = found
        if practice is not None:
            for name in ("seen_at", "learned_by"):
                self.fields[name].required = True
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "secondment" in self.fields and data.get("secondment") is None:
            for name in ("seen_at", "learned_by"):
                if name in data and not data.get(name):
                    self.add_error(name, _("不来自挂职时，请填写"))
        zone, secondment = data.get("zone"), data.get("secondment")
        if zone is not None and secondment is not None and secondment.pairing.zone_id != zone.pk:
            self.add_error("secondment", _("该挂职不属于所选园区"))
        return data


class AdoptionForm(forms.Form):
    unit = UnitChoiceField(
        label=_("采纳单位"), queryset=OrgUnit.objects.none(), empty_label=_("请选择采纳单位")
    )
    kpi = forms.ChoiceField(
        label=_("效果指标"),
        choices=[("", _("请选择指标")), *KPI_CHOICES],
        help_text=_("用平台的哪项指标衡量成效：比较试行前后各季度的数值"),
    )
    referenced_on = forms.DateField(
        label=_("借鉴日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"referenced_on": today()})
        super().__init__(*args, **kwargs)
        taken = practice.adoptions.values("unit_id")
        unit = cast(forms.ModelChoiceField, self.fields["unit"])
        unit.queryset = services.adopting_units(practice).exclude(pk__in=taken)
        _style(self)

    def clean_referenced_on(self) -> Any:
        value = self.cleaned_data["referenced_on"]
        if value and value > today():
            raise forms.ValidationError(_("不能晚于今天"))
        return value


class AdvanceForm(forms.Form):
    """One step forward for an adoption, with its date."""

    to_stage = forms.ChoiceField(label=_("进入阶段"), choices=AdoptionStage.choices, widget=forms.HiddenInput)
    on = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class QuartersForm(forms.Form):
    """The effect page's span: how many quarters on each side."""

    quarters = forms.TypedChoiceField(
        label=_("对比季度数"),
        coerce=int,
        choices=[],
        required=False,
        empty_value=None,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        quarters = cast(forms.TypedChoiceField, self.fields["quarters"])
        quarters.choices = [(n, gettext("前后各 %(n)d 个季度") % {"n": n}) for n in range(1, 5)]
        _style(self)
