"""统一社会信用代码 (GB 32100-2015) validation with messages that say what is wrong."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import uscc as stdnum_uscc

_ALPHABET = set("0123456789ABCDEFGHJKLMNPQRTUWXY")


def clean_uscc(value: object) -> str:
    """Return the normalised code or raise ValidationError naming the problem (in Chinese)."""
    if not isinstance(value, str):
        # Excel turns an 18-digit code into a float and loses digits; refuse rather than guess.
        raise ValidationError(
            _("统一社会信用代码必须是文本，不能是数字（Excel 会把 18 位数字改成科学计数法并丢失末位）")
        )
    code = value.strip().upper().replace(" ", "")
    if not code:
        raise ValidationError(_("统一社会信用代码不能为空"))
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为 18 位，“%(code)s”是 %(length)s 位") % {"code": code, "length": len(code)}
        )
    bad = sorted({ch for ch in code if ch not in _ALPHABET})
    if bad:
        raise ValidationError(
            _("统一社会信用代码含有不允许的字符：%(chars)s（不使用 I、O、Z、S、V）")
            % {"chars": "、".join(bad)}
        )
    if not code[:8].isdigit():
        # Positions 1-8: registering authority, entity type and administrative division code.
        raise ValidationError(
            _("统一社会信用代码前 8 位（登记管理部门、机构类别和行政区划代码）应全部为数字")
        )
    # The same rules as stdnum's validate(), checked one by one to name the failing one.
    expected = stdnum_uscc.calc_check_digit(code[:17])
    if expected != code[17]:
        raise ValidationError(
            _("统一社会信用代码校验位错误：第 18 位应为 %(expected)s，实为 %(actual)s")
            % {"expected": expected, "actual": code[17]}
        )
    return code


def with_check_digit(first17: str) -> str:
    """Complete a 17-character stem with its check digit (demo data and tests build codes this way)."""
    return first17 + stdnum_uscc.calc_check_digit(first17)
