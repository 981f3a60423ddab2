"""Forms of the project pages: the project, the list's filters, the stage moves, signings, arrivals,
promised dates, the approval checklist, registration, and the acceleration report's period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.enterprises import services as enterprise_services
from guanjia.enterprises.models import Enterprise
from guanjia.enterprises.uscc import clean_uscc
from guanjia.investment import access
from guanjia.investment.models import (
    STAGES,
    ChainNode,
    IndustryChain,
    LeadSource,
    Project,
    ProjectKind,
    ProjectType,
    Stage,
    Target,
)
from guanjia.investment.projects import EVENT_MAX, NAME_MAX, NOTE_MAX, stage_label

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif not isinstance(widget, forms.CheckboxSelectMultiple | forms.HiddenInput):
            widget.attrs.setdefault(
                "class", "form-select" if isinstance(widget, forms.Select) else "form-control"
            )


def _described(form: forms.Form) -> None:
    """Point each input at its help text (includes/form.html renders it as <id>_help)."""
    for name, field in form.fields.items():
        if field.help_text:
            field.widget.attrs["aria-describedby"] = f"{form[name].auto_id}_help"


def promoters_of_user_zones(user: User) -> QuerySet[User]:
    zone_ids = user.zone_ids()
    parents = OrgUnit.objects.filter(pk__in=zone_ids).values("parent_id")
    return (
        User.objects.with_role(Role.PROMOTER)
        .filter(Q(unit_id__in=zone_ids) | Q(unit__parent_id__in=zone_ids) | Q(unit_id__in=parents))
        .distinct()
        .order_by("full_name", "pk")
    )


class NodeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.chain} · {obj.name}"


class ProjectForm(forms.Form):
    """A project's facts; on creation also its zone, kind and (from a lead) the lead."""

    zone = forms.ModelChoiceField(label=_("所属园区"), queryset=OrgUnit.objects.none(), empty_label=None)
    name = forms.CharField(label=_("项目名称"), max_length=NAME_MAX)
    kind = forms.ChoiceField(label=_("项目性质"), choices=ProjectKind.choices, initial=ProjectKind.NEW)
    enterprise_uscc = forms.CharField(
        label=_("增资企业的统一社会信用代码"),
        required=False,
        max_length=30,
        help_text=_("增资扩股项目填写：本园区已登记的企业；新建项目留空，注册落地时再关联企业"),
    )
    project_type = forms.ChoiceField(
        label=_("项目类型"),
        choices=ProjectType.choices,
        initial=ProjectType.INDUSTRIAL,
        help_text=_("决定签约后生成的审批代办清单"),
    )
    owner = forms.ModelChoiceField(label=_("招商专员"), queryset=User.objects.none(), empty_label=None)
    target = forms.ModelChoiceField(
        label=_("投资方"), queryset=Target.objects.none(), required=False, empty_label=_("（未指定）")
    )
    chain = forms.ModelChoiceField(
        label=_("产业链"), queryset=IndustryChain.objects.none(), required=False, empty_label=_("（未指定）")
    )
    node = NodeChoiceField(
        label=_("链环节"),
        queryset=ChainNode.objects.none(),
        required=False,
        empty_label=_("（未指定）"),
        help_text=_("选择链环节时，产业链取该环节所在的产业链"),
    )
    source = forms.ChoiceField(label=_("线索来源"), choices=LeadSource.choices, initial=LeadSource.OTHER)
    investment_planned = forms.DecimalField(label=_("计划总投资（万元）"), **MONEY)
    investment_base = forms.DecimalField(
        label=_("增资前已投资（万元）"),
        required=False,
        help_text=_("仅增资扩股项目填写；只有增量（计划总投资 − 增资前已投资）计入招商实绩"),
        **MONEY,
    )
    land_mu = forms.DecimalField(label=_("用地（亩）"), required=False, **MONEY)
    expected_output = forms.DecimalField(label=_("达产后年产值（万元）"), required=False, **MONEY)
    expected_tax = forms.DecimalField(label=_("达产后年税收（万元）"), required=False, **MONEY)
    description = forms.CharField(
        label=_("项目概况"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    on = forms.DateField(
        label=_("谋划日期"),
        required=False,
        widget=_date_input(),
        help_text=_(
            "留空为今天（从洽谈中的线索创建时，为线索进入洽谈的日期）；录入已在推进的项目时可填更早的日期"
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, user: User, project: Project | None = None, from_lead: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.project = user, project
        for stage in STAGES:
            self.fields[f"promised_{stage}"] = forms.DateField(
                label=_("约定%(stage)s日期") % {"stage": stage_label(stage)},
                required=False,
                widget=_date_input(),
            )
        cast(forms.ModelChoiceField, self.fields["zone"]).queryset = access.zones_of(user)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = promoters_of_user_zones(user)
        cast(forms.ModelChoiceField, self.fields["target"]).queryset = Target.objects.visible_to(
            user
        ).order_by("name")
        cast(forms.ModelChoiceField, self.fields["chain"]).queryset = IndustryChain.objects.visible_to(user)
        cast(forms.ModelChoiceField, self.fields["node"]).queryset = (
            ChainNode.objects.visible_to(user)
            .select_related("chain")
            .order_by("chain__name", "position", "pk")
        )
        if project is not None:  # editing: the zone, kind, origin and start are fixed
            for name in ("zone", "kind", "on"):
                del self.fields[name]
            if project.kind == ProjectKind.NEW:
                del self.fields["enterprise_uscc"]
                del self.fields["investment_base"]
        if from_lead:  # the lead gives the zone, target, chain, node and source
            for name in ("zone", "target", "chain", "node", "source"):
                del self.fields[name]
        _style(self)
        _described(self)

    def clean_enterprise_uscc(self) -> Enterprise | None:
        value = (self.cleaned_data.get("enterprise_uscc") or "").strip()
        if not value:
            return None
        try:
            code = clean_uscc(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from exc
        enterprise = Enterprise.objects.filter(uscc=code, zone_id__in=self.user.zone_ids()).first()
        if enterprise is None:
            raise ValidationError(_("%(uscc)s 不是本园区已登记的企业") % {"uscc": code})
        return enterprise

    def promised(self) -> dict[str, date | None]:
        return {stage: self.cleaned_data.get(f"promised_{stage}") for stage in STAGES}

    def facts(self) -> dict[str, Any]:
        """The cleaned fields as create_project / update_project arguments (without promised dates)."""
        data = self.cleaned_data
        facts: dict[str, Any] = {
            "name": data["name"],
            "owner": data["owner"],
            "project_type": data["project_type"],
            "investment_planned": data["investment_planned"],
            "land_mu": data.get("land_mu") or Decimal("0"),
            "expected_output": data.get("expected_output") or Decimal("0"),
            "expected_tax": data.get("expected_tax") or Decimal("0"),
            "description": data.get("description", ""),
        }
        for name in ("target", "chain", "node", "source"):
            if name in self.fields:
                facts[name] = data.get(name)
        if "investment_base" in self.fields:
            facts["investment_base"] = data.get("investment_base") or Decimal("0")
        if "enterprise_uscc" in self.fields:
            facts["enterprise"] = data.get("enterprise_uscc")
        return facts


OVERDUE_CHOICES = [("", _("全部")), ("yes", _("有逾期节点"))]


class ProjectFilterForm(forms.Form):
    stage = forms.ChoiceField(label=_("阶段"), choices=[("", _("全部阶段")), *Stage.choices], required=False)
    chain = forms.ModelChoiceField(
        label=_("产业链"), queryset=IndustryChain.objects.none(), required=False, empty_label=_("全部产业链")
    )
    source = forms.ChoiceField(
        label=_("线索来源"), choices=[("", _("全部来源")), *LeadSource.choices], required=False
    )
    kind = forms.ChoiceField(
        label=_("项目性质"), choices=[("", _("全部")), *ProjectKind.choices], required=False
    )
    overdue = forms.ChoiceField(label=_("逾期节点"), choices=OVERDUE_CHOICES, required=False)
    owner = forms.ModelChoiceField(
        label=_("招商专员"), queryset=User.objects.none(), required=False, empty_label=_("全部专员")
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["chain"]).queryset = IndustryChain.objects.visible_to(user)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = promoters_of_user_zones(user)
        _style(self)


class AdvanceForm(forms.Form):
    """推进阶段: only later stages are offered."""

    to = forms.ChoiceField(label=_("推进到"))
    on = forms.DateField(label=_("日期"), widget=_date_input())
    event = forms.CharField(
        label=_("签约活动"),
        max_length=EVENT_MAX,
        required=False,
        help_text=_("推进到签约（或越过签约）时填写，如“2026 招商大会”；不填记为“直接签约”"),
    )
    note = forms.CharField(label=_("说明"), max_length=NOTE_MAX, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "advance")
        kwargs.setdefault("initial", {"on": access.today(), "version": project.version})
        super().__init__(*args, **kwargs)
        stages = STAGES[STAGES.index(project.stage) + 1 :]
        cast(forms.ChoiceField, self.fields["to"]).choices = [(s, stage_label(s)) for s in stages]
        _style(self)
        _described(self)


class CorrectForm(forms.Form):
    """更正阶段（需填写原因）: back to an earlier stage."""

    to = forms.ChoiceField(label=_("更正为"))
    reason = forms.CharField(label=_("更正原因"), max_length=NOTE_MAX)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "correct")
        kwargs.setdefault("initial", {"version": project.version})
        super().__init__(*args, **kwargs)
        stages = STAGES[: STAGES.index(project.stage)]
        cast(forms.ChoiceField, self.fields["to"]).choices = [(s, stage_label(s)) for s in stages]
        _style(self)


class SigningForm(forms.Form):
    event = forms.CharField(label=_("签约活动"), max_length=EVENT_MAX, help_text=_("如“云签约”“招商大会”"))
    signed_on = forms.DateField(label=_("签约日期"), widget=_date_input())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "signing")
        kwargs.setdefault("initial", {"signed_on": access.today()})
        super().__init__(*args, **kwargs)
        _style(self)
        _described(self)


class ArrivalForm(forms.Form):
    amount = forms.DecimalField(
        label=_("到资金额（万元）"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    arrived_on = forms.DateField(label=_("到资日期"), widget=_date_input())
    note = forms.CharField(label=_("说明"), max_length=NOTE_MAX, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "arrival")
        kwargs.setdefault("initial", {"arrived_on": access.today()})
        super().__init__(*args, **kwargs)
        _style(self)


class PromisedForm(forms.Form):
    stage = forms.ChoiceField(label=_("阶段"), choices=Stage.choices)
    promised_on = forms.DateField(
        label=_("约定日期"), required=False, widget=_date_input(), help_text=_("留空即清除该阶段的约定日期")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "promised")
        super().__init__(*args, **kwargs)
        _style(self)
        _described(self)


class AgentForm(forms.Form):
    agent = forms.ModelChoiceField(label=_("代办员"), queryset=User.objects.none(), empty_label=None)

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "agent")
        kwargs.setdefault("initial", {"agent": project.agent_id})
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["agent"]).queryset = access.promoters_of_zone(project.zone)
        _style(self)


class ApprovalAddForm(forms.Form):
    name = forms.CharField(label=_("审批事项"), max_length=50)
    statutory_days = forms.IntegerField(label=_("法定时限（工作日）"), min_value=1, max_value=1000)
    promised_days = forms.IntegerField(label=_("承诺时限（工作日）"), min_value=0, max_value=1000)
    note = forms.CharField(label=_("备注"), max_length=NOTE_MAX, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "approval")
        super().__init__(*args, **kwargs)
        _style(self)


class ApprovalDateForm(forms.Form):
    """The day an approval was accepted (受理) or granted (办结)."""

    on = forms.DateField(label=_("日期"), widget=_date_input())


class RegisterForm(forms.Form):
    """注册落地: the project's new enterprise enters the zone's registry with a steward."""

    name = forms.CharField(label=_("企业名称"), max_length=NAME_MAX)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=30)
    steward = forms.ModelChoiceField(
        label=_("服务管家"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("（自动分配：负荷最轻的管家）"),
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "register")
        kwargs.setdefault("initial", {"name": project.name.removesuffix("项目")})
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["steward"]).queryset = enterprise_services.stewards_of_zones(
            [project.zone_id]
        )
        _style(self)


class PeriodForm(forms.Form):
    """The acceleration report's period (default: this year) and, for a city user, a zone."""

    start = forms.DateField(label=_("开始日期"), widget=_date_input(), required=False)
    end = forms.DateField(label=_("结束日期"), widget=_date_input(), required=False)
    zone = forms.ModelChoiceField(
        label=_("园区"), queryset=OrgUnit.objects.none(), required=False, empty_label=_("全部园区")
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["zone"]).queryset = access.zones_of(user)
        _style(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = access.today()
        data["start"] = data.get("start") or date(today.year, 1, 1)
        data["end"] = data.get("end") or date(today.year, 12, 31)
        if data["end"] < data["start"]:
            self.add_error("end", _("不能早于开始日期"))
        return data
