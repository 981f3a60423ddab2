"""Two people acting on one entry at the same moment: of two edits from the same version one wins and
the other is told so; two clicks of "did this solve it?" leave one row of the day and raise nothing."""

from __future__ import annotations

import pytest

from guanjia.core.errors import Conflict
from guanjia.core.roles import Role
from guanjia.knowledge import entries
from guanjia.knowledge.models import Entry, EntryStatus, Feedback
from guanjia.knowledge.tests.entries_helpers import entry
from guanjia.testing import build_cast, make_user, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_leave_one_row_and_raise_nothing():
    cast = build_cast()
    made = entry(cast.handler_a, "社保怎么开户")

    results = run_concurrently(
        lambda: entries.record_feedback(made, by=cast.ent_user_a1, resolved=True),
        lambda: entries.record_feedback(made, by=cast.ent_user_a1, resolved=False),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Feedback.objects.filter(entry=made).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_publish_and_an_archive_from_the_same_version_one_wins_the_other_conflicts():
    cast = build_cast()
    head = make_user("head_a", cast.market_a, Role.DEPARTMENT_HEAD)
    made = entry(cast.handler_a, "社保怎么开户", published=False)
    mine, theirs = Entry.objects.get(pk=made.pk), Entry.objects.get(pk=made.pk)

    results = run_concurrently(
        lambda: entries.publish(mine, by=cast.handler_a, version=mine.version),
        lambda: entries.archive(theirs, by=head, version=theirs.version),
    )

    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    [won] = [r for r in results if isinstance(r, Entry)]
    assert Entry.objects.get(pk=made.pk).status == won.status
    assert won.status in (EntryStatus.PUBLISHED, EntryStatus.ARCHIVED)
    assert Entry.objects.get(pk=made.pk).version == made.version + 1
