"""Forms of the smart-dispatch pages: a keyword rule's edit and the routing page's retrain button.

They check the shape of the input; the rules are the services' (guanjia/dispatch/rules.py, routing.py),
whose refusals the pages show on the form or as a message.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.core.forms import TablerWidgetsMixin

WORDS_MAX = 4000


class KeywordRuleForm(TablerWidgetsMixin, forms.Form):
    """The words of one category's keyword rule; `version` is the one the page showed."""

    words = forms.CharField(
        label=_("关键词"),
        max_length=WORDS_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("以空格或逗号分隔，如：留抵 退税 发票；标题中出现的关键词权重加倍"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RetrainForm(forms.Form):
    """重新训练: which zone's model."""

    zone = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class SimilarDraftForm(forms.Form):
    """The text being written on the appeal form, for the intake panel (never saved)."""

    enterprise = forms.IntegerField(min_value=1)
    # Not limited here: the panel reads only the first TEXT_MAX characters of what is being typed.
    title = forms.CharField(required=False)
    body = forms.CharField(required=False)
