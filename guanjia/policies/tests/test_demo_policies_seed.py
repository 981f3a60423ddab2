"""The policies demo repeats with its seed, and has deliveries in every state even at the smallest size."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from guanjia.policies.delivery import is_overdue
from guanjia.policies.models import BenefitItem, Delivery, DeliveryStatus, Policy


@pytest.mark.django_db
def test_same_seed_same_policies_and_deliveries_even_at_the_smallest_size():
    def snapshot() -> list[tuple]:
        with transaction.atomic():
            call_command("demo_data", "--enterprises", "10", "--seed", "5", stdout=StringIO())
            rows = [
                *Policy.objects.order_by("document_number").values_list(
                    "document_number", "title", "effective_on"
                ),
                *BenefitItem.objects.order_by("policy__document_number", "name").values_list(
                    "name", "divisions"
                ),
                *Delivery.objects.order_by("item__name", "enterprise__uscc").values_list(
                    "item__name", "enterprise__uscc", "status", "channel", "pushed_at", "amount"
                ),
            ]
            deliveries = list(Delivery.objects.all())
            assert {d.status for d in deliveries} == set(DeliveryStatus.values)
            assert any(is_overdue(d) for d in deliveries)
            transaction.set_rollback(True)
        return rows

    first = snapshot()
    assert len(first) > 80
    assert snapshot() == first
