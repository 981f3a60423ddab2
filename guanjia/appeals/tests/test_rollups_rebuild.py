"""The rebuild's gathered rollup changes (rollups.FLUSH_ROWS): written in several flushes and chunks, or
lost with a rebuild stopped half-way, the rollups come out as the services kept them."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime

import pytest
import time_machine
from django.db import transaction

from guanjia.appeals import rollups
from guanjia.appeals.models import Appeal, AppealFacts, DailyRollup
from guanjia.appeals.tests.test_rollups import World, _drive
from guanjia.core.workcalendar import BEIJING

START = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)


def _rollups() -> Counter[tuple[object, ...]]:
    rows = DailyRollup.objects.exclude(value=0).values_list(*rollups._KEY_COLUMNS, "value")
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


def _kept_by_the_services() -> Counter[tuple[object, ...]]:
    with time_machine.travel(START, tick=False):
        world = World()
    _drive(world, random.Random(5), 40, START)
    kept = _rollups()
    assert kept and rollups.check().ok
    return kept


@pytest.mark.django_db
def test_a_rebuild_from_empty_flushing_after_every_batch_in_small_chunks_gives_the_services_rollups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = _kept_by_the_services()
    AppealFacts.objects.all().delete()
    DailyRollup.objects.all().delete()
    monkeypatch.setattr(rollups, "FLUSH_ROWS", 1)
    monkeypatch.setattr(rollups, "FLUSH_CHUNK", 3)
    assert rollups.rebuild(batch=2) == 0  # every change was added by the flushes: nothing to correct
    assert _rollups() == kept
    assert rollups.check().ok


@pytest.mark.django_db
def test_a_rebuild_stopped_before_its_flush_is_made_good_by_the_next_one() -> None:
    kept = _kept_by_the_services()
    AppealFacts.objects.all().delete()
    DailyRollup.objects.all().delete()
    # The first appeals' facts are stored, their changes to the rollups gathered and then lost.
    lost: Counter[rollups.RollupKey] = Counter()
    with transaction.atomic():
        first = list(Appeal.objects.order_by("pk").values_list(*rollups._COLUMNS)[:5])
        assert rollups._apply(first, lost) == len(first)
    assert lost and not DailyRollup.objects.exists()
    assert not rollups.check().ok
    # Those appeals' facts are as counted, so the batches change nothing for them: the comparison adds them.
    assert rollups.rebuild() >= len(+lost)
    assert _rollups() == kept
    assert rollups.check().ok
