"""What the domain apps' APIs share, whatever they are about: the refusals an endpoint documents, who
the caller is, the field that names an object in the caller's scope, the version and money fields, the
choice fields named as schema components, and the id filter that never reaches the database with a
number it cannot hold.

The services' refusals (ServiceError 400, NotAllowed 403, Conflict 409) are turned into HTTP answers
once for the whole API, by guanjia.core.api.api_exception_handler; nothing here maps them again.
Nothing here knows a domain app: a field scoped to a domain model is a ScopedField subclass in its app.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.request import Request

from guanjia.core.api import DEFAULT_ERRORS, ErrorSerializer
from guanjia.core.errors import InvalidField
from guanjia.core.models import OrgUnit, User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # typing only: django-stubs is a dev dependency

FORBIDDEN = _("无权执行此操作")
MISSING = _("对象不存在或不在您的范围内")
STALE = _("已被他人修改：请重新读取后再提交")

# The largest id a 64-bit primary key (DEFAULT_AUTO_FIELD is BigAutoField) can hold.
MAX_ID = 2**63 - 1

# --- the refusals an endpoint documents ---------------------------------------------------------------


class Refusals:
    """The refusals one resource's endpoints document, each worded for the resource: 400 (the input, or a
    rule of the service), 403, 404 (absent or out of the caller's scope) and 409 (changed meanwhile)."""

    def __init__(
        self,
        *,
        forbidden: StrOrPromise = FORBIDDEN,
        missing: StrOrPromise = MISSING,
        stale: StrOrPromise = STALE,
        invalid: StrOrPromise | None = None,
    ) -> None:
        # The 400 is a field map or a {detail}: no one body to name.
        self.invalid = DEFAULT_ERRORS["400"] if invalid is None else OpenApiResponse(description=invalid)
        self.forbidden = OpenApiResponse(ErrorSerializer, description=forbidden)
        self.missing = OpenApiResponse(ErrorSerializer, description=missing)
        self.stale = OpenApiResponse(ErrorSerializer, description=stale)

    def responses(self, code: int, body: Any, *refused: int) -> dict[int, Any]:
        """An endpoint's documented responses: `body` with `code`, and the refusals it may give, e.g.
        `ERRORS.responses(200, LeadDetailSerializer, 400, 403, 404, 409)`."""
        by_code = {400: self.invalid, 403: self.forbidden, 404: self.missing, 409: self.stale}
        return {code: body, **{refusal: by_code[refusal] for refusal in refused}}


def field_errors(write: Callable[[], Any]) -> Any:
    """Run a service write: a refused field (InvalidField) becomes {field: [message]} (400)."""
    try:
        return write()
    except InvalidField as exc:
        raise serializers.ValidationError({exc.field: [str(exc)]}) from None


# --- the caller ---------------------------------------------------------------------------------------


def user_or_none(request: Request | None) -> User | None:
    """The request's user if it is an account (the anonymous visitor is None: scoped reads see nothing)."""
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


def caller(context: Mapping[str, Any]) -> User | None:
    """The user of a serializer's or field's context."""
    return user_or_none(context.get("request"))


def actor(request: Request) -> User:
    """The account doing a write (the permissions let only accounts through)."""
    user = user_or_none(request)
    if user is None:
        raise exceptions.NotAuthenticated()
    return user


# --- fields: an object named in a body is looked up in the caller's scope -------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ScopedField(serializers.PrimaryKeyRelatedField):
    """An object named by id, looked up among those the caller may see: anything else "does not exist"
    (400). A module words that refusal by subclassing and setting `default_error_messages`."""

    def get_queryset(self) -> QuerySet:
        user = caller(self.context)
        return self.scoped(user) if user is not None else OrgUnit.objects.none()

    def scoped(self, user: User) -> QuerySet:
        raise NotImplementedError


def version_field(**options: Any) -> serializers.IntegerField:
    """The version the client read: a write with a stale one is refused with 409 (Conflict)."""
    options = {"min_value": 1, "help_text": _("读取时的 version；已被他人修改时返回 409"), **options}
    return serializers.IntegerField(**options)


def money_field(**options: Any) -> serializers.DecimalField:
    """An amount in 万元."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, **options)


# --- choice fields, each with its enum as one named component: field names such as "kind", "stage" and
# "status" are used by other choice sets of the schema, so drf-spectacular's naming by field name would
# collide ------------------------------------------------------------------------------------------------


class NamedEnumField(serializers.ChoiceField):
    """A choice field whose enum is the schema component `enum_name`."""

    enum_name = ""
    choice_set: type[models.TextChoices]
    blank_allowed = False

    def __init__(self, **kwargs: Any) -> None:
        if self.blank_allowed:
            kwargs["allow_blank"] = True
        super().__init__(choices=self.choice_set.choices, **kwargs)


class NamedEnumExtension(OpenApiSerializerFieldExtension):
    target_class = NamedEnumField
    match_subclasses = True

    def get_name(self) -> str | None:
        return str(self.target.enum_name)

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = self.target
        values = list(field.choice_set.values)
        labels = [f"* `{value}` - {label}" for value, label in field.choice_set.choices]
        if field.blank_allowed:
            values = ["", *values]
            labels = ["* `` - （未填写）", *labels]
        return {"type": "string", "enum": values, "description": "\n".join(labels)}


# --- filters ------------------------------------------------------------------------------------------


class IdFilter(django_filters.NumberFilter):
    """An object's id: a whole number the database can hold. A decimal, a word, or a number too large for
    a 64-bit column (?node=1.5, ?node=abc, ?node=-1.8e308, ?node=99999999999999999999) is refused with a
    400 rather than reaching the query (NumberFilter alone takes decimals, and an overflow there is a 500).
    The schema names the bounds it holds (min_value 1 and max_value MAX_ID unless given)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
        # The schema as drf-spectacular would give it (its description the help text, or else the label
        # given), with the type and bounds the filter holds.
        schema: dict[str, Any] = {
            "type": "integer",
            "minimum": kwargs["min_value"],
            "maximum": kwargs["max_value"],
        }
        description = kwargs.get("help_text") or kwargs.get("label")
        if description:
            schema["description"] = description
        set_override(self, "field", schema)


_WHOLE = re.compile(r"[+-]?[0-9]+")


class WholeNumberField(serializers.IntegerField):
    """A whole number as written: DRF's IntegerField also takes "2.0" (and a query parameter of
    ?zone=2.0 would pass for zone 2), which the schema's integer does not allow."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, float) or (isinstance(data, str) and not _WHOLE.fullmatch(data.strip())):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"})
class ClockField(serializers.TimeField):
    """A time of day to the minute, written and read as HH:MM (OpenAPI's `format: time` asks for seconds
    and a zone offset, which a service hour has not)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **options)
