"""Two generations of the same briefing at once (a leader's click and the schedule, two leaders):
one briefing row, its two files, no stored file left behind — on a real file database."""

from __future__ import annotations

from pathlib import Path

import pytest

from guanjia.cockpit import services
from guanjia.cockpit.briefing import Kind
from guanjia.cockpit.models import Briefing, BriefingFile
from guanjia.cockpit.tests.briefing_helpers import NOW, WEEK
from guanjia.testing import build_cast, run_concurrently


def _stored(root: Path) -> set[str]:
    return {p.name for p in root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*")}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("replace", [True, False])
def test_concurrent_generations_make_one_briefing(settings, tmp_path, replace):
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    cast = build_cast()

    def generate(by):
        return lambda: services.generate_briefing(
            Kind.WEEKLY, cast.zone_a, by=by if replace else None, start=WEEK.start, now=NOW, replace=replace
        )

    results = run_concurrently(
        generate(cast.leader_a), generate(cast.supervisor_a), generate(cast.leader_city)
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.created for r in results) == 1
    made = Briefing.objects.get()
    # Regenerations each count once; the schedule's runs leave the first one as it is.
    assert made.version == (3 if replace else 1)
    assert BriefingFile.objects.filter(briefing=made).count() == 2
    assert _stored(settings.ATTACHMENTS_DIR) == set(
        BriefingFile.objects.values_list("storage_key", flat=True)
    )
