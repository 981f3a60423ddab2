"""The investment demo repeats with its seed, and holds together at the smallest demo size."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from guanjia.investment.models import Lead, LeadStatus, Project, Stage, Target


@pytest.mark.django_db
def test_same_seed_same_investment_data_even_at_the_smallest_size():
    def snapshot() -> list[tuple]:
        with transaction.atomic():
            call_command("demo_data", "--enterprises", "10", "--seed", "5", stdout=StringIO())
            rows = [
                *Target.objects.order_by("name").values_list("name", "uscc"),
                *Lead.objects.order_by("target__name").values_list("target__name", "status", "source"),
                *Project.objects.order_by("name").values_list("name", "stage", "investment_planned"),
            ]
            assert {p.stage for p in Project.objects.all()} == set(Stage.values)
            assert {lead.status for lead in Lead.objects.all()} == set(LeadStatus.values)
            transaction.set_rollback(True)
        return rows

    first = snapshot()
    assert len(first) > 150
    assert snapshot() == first
