"""The "generate a briefing" form of the briefings page: kind, scope (the city or a zone of the user's)
and, optionally, the period's first day (empty: the last complete week or month)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.appeals.forms import PageFormMixin
from guanjia.cockpit import services
from guanjia.cockpit.models import Briefing
from guanjia.core.models import OrgUnit, User

CITY = "city"  # the scope field's value for the city-wide briefing


class GenerateForm(PageFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=Briefing.Kind.choices)
    scope = forms.ChoiceField(label=_("范围"))
    start = forms.DateField(
        label=_("起始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("留空为最近一个已结束的周（周一）或月（1 日）"),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = services.scope_choices(user)
        self.scopes = {(str(zone.pk) if zone is not None else CITY): zone for zone, _label in choices}
        scope = self.fields["scope"]
        assert isinstance(scope, forms.ChoiceField)
        scope.choices = [(str(zone.pk) if zone is not None else CITY, label) for zone, label in choices]

    def zone(self) -> OrgUnit | None:
        return self.scopes[self.cleaned_data["scope"]]
