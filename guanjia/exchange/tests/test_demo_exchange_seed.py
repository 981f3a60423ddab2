"""The exchange demo repeats with its seed, and holds together at the smallest demo size."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from guanjia.appeals.models import Rating
from guanjia.exchange.demo import SERVICE_APPEALS
from guanjia.exchange.models import Adoption, AdoptionStage, LearningNote, Secondment, SourcedLead


@pytest.mark.django_db
def test_same_seed_same_programme_even_at_the_smallest_size():
    def snapshot() -> list[tuple]:
        with transaction.atomic():
            call_command("demo_data", "--enterprises", "10", "--seed", "5", stdout=StringIO())
            rows = [
                *Secondment.objects.order_by("cadre__username").values_list(
                    "cadre__username", "cadre__full_name", "starts_on", "ends_on"
                ),
                *LearningNote.objects.order_by("title").values_list("title", "observed_on", "created_at"),
                *SourcedLead.objects.order_by("company_name").values_list("company_name", "uscc", "status"),
                *Adoption.objects.order_by("practice__title", "unit__code").values_list(
                    "practice__title", "unit__code", "stage", "trial_on"
                ),
                # The replayed service history (the appeals demo's own times follow the clock).
                *Rating.objects.filter(appeal__title__in=[title for title, _body in SERVICE_APPEALS])
                .order_by("at", "pk")
                .values_list("appeal__enterprise__uscc", "level", "at"),
            ]
            assert Secondment.objects.count() == 5
            assert (
                Rating.objects.filter(appeal__title__in=[title for title, _body in SERVICE_APPEALS]).count()
                >= 10
            )
            assert {a.stage for a in Adoption.objects.all()} == set(AdoptionStage.values)
            transaction.set_rollback(True)
        return rows

    first = snapshot()
    assert len(first) > 40
    assert snapshot() == first
