"""Two managers editing one roster at the same moment, from the same version: one edit wins, the other is
told that the roster changed; the gaps stored are those of the winner's roster."""

from __future__ import annotations

from datetime import time

import pytest
import time_machine

from guanjia.core.errors import Conflict
from guanjia.testing import build_cast, run_concurrently
from guanjia.windows import rostering, rosters
from guanjia.windows.models import Roster, Shift
from guanjia.windows.tests.roster_helpers import NOW, TUESDAY, WEEK, build_scene


@pytest.mark.django_db(transaction=True)
def test_two_shift_edits_from_one_version_one_wins_the_other_conflicts():
    with time_machine.travel(NOW, tick=False):
        scene = build_scene(build_cast())
        roster = rosters.generate_roster(scene.unit, WEEK, by=scene.head)
        tuesday = list(Shift.objects.filter(roster=roster, date=TUESDAY).order_by("pk"))
        starts = rostering.lunch_starts(scene.unit)
        shown = roster.version

        def move_lunch(shift: Shift, to: time):
            mine = Roster.objects.select_related("unit").get(pk=roster.pk)
            return rosters.set_shift(
                mine,
                user=shift.user,
                day=TUESDAY,
                window=scene.window,
                lunch_start=to,
                by=scene.head,
                version=shown,
            )

        first, second = tuesday[0], tuesday[1]
        results = run_concurrently(
            lambda: move_lunch(first, starts[-1] if first.lunch_start != starts[-1] else starts[0]),
            lambda: move_lunch(second, starts[-1] if second.lunch_start != starts[-1] else starts[0]),
        )

    assert sum(isinstance(r, Roster) for r in results) == 1, results
    [refused] = [r for r in results if not isinstance(r, Roster)]
    assert isinstance(refused, Conflict) and "排班表已被他人修改，请刷新后重试" in str(refused), refused
    fresh = Roster.objects.get(pk=roster.pk)
    assert fresh.version == shown + 1
    stored = list(fresh.shortages)
    assert stored == [s.as_json() for s in rostering.gaps(scene.unit, WEEK, list(fresh.shifts.all()))]
