"""The handling steps around the transitions, as the appeal page and the approvals page show them.

补充材料 (pauses), 延期 (extensions), 协办意见, the answer waiting for the department head, 领导协调,
申诉复核 (reviews) and 合并: each row with who did what, named as presentation.actor_name names
people (a confidential appeal never tells the department who the enterprise is), and the forms
that act on one row — shown only to whom permissions.py says may use them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from guanjia.appeals import lifecycle, permissions, presentation
from guanjia.appeals.forms import DisputeForm, ExtensionDecisionForm, ReviewDecisionForm
from guanjia.appeals.models import (
    Appeal,
    Assignment,
    Extension,
    Pause,
    Rating,
    RatingLevel,
    Review,
    Status,
)
from guanjia.core.models import User
from guanjia.core.roles import Role

PEOPLE = ("requested_by", "requested_by__unit", "decided_by", "decided_by__unit")


def extension_prefix(extension: Extension) -> str:
    return f"extension-{extension.pk}"


def review_prefix(review: Review) -> str:
    return f"review-{review.pk}"


def dispute_prefix(rating: Rating) -> str:
    return f"dispute-{rating.pk}"


def extension_form(extension: Extension, data: Any = None) -> ExtensionDecisionForm:
    return ExtensionDecisionForm(data, prefix=extension_prefix(extension))


def review_form(review: Review, data: Any = None) -> ReviewDecisionForm:
    return ReviewDecisionForm(data, prefix=review_prefix(review), review=review)


def dispute_form(rating: Rating, data: Any = None) -> DisputeForm:
    return DisputeForm(data, prefix=dispute_prefix(rating))


def _name(user: User | None, appeal: Appeal, shown: bool) -> str:
    return presentation.actor_name(user, appeal, shown)


def _extensions(
    appeal: Appeal, user: User, shown: bool, bound: dict[str, forms.Form]
) -> list[dict[str, Any]]:
    rows = []
    for extension in Extension.objects.filter(appeal=appeal).select_related(*PEOPLE):
        form = None
        if permissions.may_decide_extension(appeal, extension, user):
            form = bound.get(extension_prefix(extension)) or extension_form(extension)
        rows.append(
            {
                "extension": extension,
                "by": _name(extension.requested_by, appeal, shown),
                "decided_by": _name(extension.decided_by, appeal, shown) if extension.decided_at else "",
                "form": form,
            }
        )
    return rows


def _reviews(appeal: Appeal, user: User, shown: bool, bound: dict[str, forms.Form]) -> list[dict[str, Any]]:
    rows = []
    for review in Review.objects.filter(appeal=appeal).select_related("rating", *PEOPLE):
        form = None
        if permissions.may_decide_review(appeal, review, user):
            form = bound.get(review_prefix(review)) or review_form(review)
        rows.append(
            {
                "review": review,
                "by": _name(review.requested_by, appeal, shown),
                "decided_by": _name(review.decided_by, appeal, shown) if review.decided_at else "",
                "decided_level": RatingLevel(review.decided_level).label if review.decided_level else "",
                "form": form,
            }
        )
    return rows


def rating_rows(
    appeal: Appeal, user: User, shown: bool, bound: dict[str, forms.Form] | None = None
) -> list[dict[str, Any]]:
    """The ratings, each with its level after 复核 where a supervisor changed it, and the dispute form
    for the rated department while it may still dispute."""
    bound = bound or {}
    ratings = Rating.objects.filter(appeal=appeal).select_related(
        "rated_by", "rated_by__unit", "assignment", "assignment__department"
    )
    rows = []
    for rating in ratings:
        form = None
        if permissions.may_dispute(rating, user):
            form = bound.get(dispute_prefix(rating)) or dispute_form(rating)
        rows.append(
            {
                "rating": rating,
                "by": _name(rating.rated_by, appeal, shown),
                "reviewed_level": RatingLevel(rating.reviewed_level).label if rating.reviewed_level else "",
                "dispute_form": form,
            }
        )
    return rows


def _pauses(appeal: Appeal, shown: bool) -> list[dict[str, Any]]:
    pauses = Pause.objects.filter(appeal=appeal).select_related(
        "requested_by", "requested_by__unit", "resumed_by", "resumed_by__unit"
    )
    return [
        {
            "pause": pause,
            "by": _name(pause.requested_by, appeal, shown),
            # Resumed by nobody: the 5 working days ran out and the clock started again by itself.
            "resumed_by": _name(pause.resumed_by, appeal, shown) if pause.resumed_at else "",
        }
        for pause in pauses
    ]


def page_context(
    appeal: Appeal,
    user: User,
    *,
    shown: bool,
    lead: Assignment | None,
    bound: dict[str, forms.Form] | None = None,
) -> dict[str, Any]:
    """What the appeal page shows of the handling steps (a dict merged into its context)."""
    bound = bound or {}
    original_due = None
    if lead is not None and lead.original_answer_due != lead.answer_due:
        original_due = lead.original_answer_due
    return {
        "pauses": _pauses(appeal, shown),
        "extensions": _extensions(appeal, user, shown, bound),
        "reviews": _reviews(appeal, user, shown, bound),
        "draft": presentation.draft_answer(lead, user),
        "waits_for_coordination": appeal.status in (Status.SIGNED, Status.WAITING)
        and lifecycle.needs_coordination(appeal),
        "coordinated_by": _name(appeal.coordinated_by, appeal, shown) if appeal.coordinated_at else "",
        "master": presentation.master_appeal(appeal, user),
        "children": presentation.merged_children(appeal, user),
        "original_due": original_due,
    }


# --- the approvals page --------------------------------------------------------------------------


def pending_extensions(user: User) -> QuerySet[Extension]:
    """Extensions waiting for a supervisor of the user's zones."""
    if not user.has_role(Role.SUPERVISOR):
        return Extension.objects.none()
    return (
        Extension.objects.filter(
            state=Extension.State.PENDING,
            appeal__zone_id__in=user.zone_ids(),
            appeal__in=Appeal.objects.visible_to(user),
        )
        .select_related("appeal", "appeal__enterprise", "assignment__department", *PEOPLE)
        .order_by("requested_at", "pk")
    )


def pending_reviews(user: User) -> QuerySet[Review]:
    """申诉复核 waiting for a supervisor of the user's zones."""
    if not user.has_role(Role.SUPERVISOR):
        return Review.objects.none()
    return (
        Review.objects.filter(
            state=Review.State.PENDING,
            appeal__zone_id__in=user.zone_ids(),
            appeal__in=Appeal.objects.visible_to(user),
        )
        .select_related("appeal", "appeal__enterprise", "rating", *PEOPLE)
        .order_by("requested_at", "pk")
    )


def waiting_for_coordination(user: User) -> QuerySet[Appeal]:
    """Appeals of the leader's zones reopened twice and waiting for a 领导协调 decision."""
    if not user.has_role(Role.LEADER):
        return Appeal.objects.none()
    return (
        Appeal.objects.visible_to(user)
        .filter(
            zone_id__in=user.zone_ids(),
            reopen_count__gte=lifecycle.MAX_REOPENS,
            coordinated_at__isnull=True,
            status__in=(Status.SIGNED, Status.WAITING),
        )
        .select_related("enterprise")
        .prefetch_related(presentation.current_assignments())
        .order_by("submitted_at", "pk")
    )
