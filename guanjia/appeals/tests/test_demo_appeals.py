from collections import Counter
from io import StringIO

from django.core.management import call_command

from guanjia.appeals.models import Appeal, AppealEvent, Assignment, Extension, Pause, Review, Status


def test_demo_appeals_cover_the_lifecycle(db):
    call_command("demo_data", stdout=StringIO())  # the default size, as `make demo` loads it
    statuses = Counter(Appeal.objects.values_list("status", flat=True))
    assert statuses[Status.CLOSED] > 0 and statuses[Status.DISPATCHED] > 0
    assert statuses[Status.SIGNED] + statuses[Status.ANSWERED] > 0
    assert Appeal.objects.filter(reopen_count__gt=0).exists()
    assert Assignment.objects.filter(kind=Assignment.Kind.REOPEN).exists()
    # The side roads of the loop are there too, so every page has something to show.
    assert Appeal.objects.filter(master__isnull=False).exists()
    assert Appeal.objects.filter(coordinated_at__isnull=False).exists()
    assert Pause.objects.exists() and Extension.objects.filter(state=Extension.State.APPROVED).exists()
    assert Review.objects.filter(kind=Review.Kind.DECLINE).exists()
    assert Review.objects.filter(kind=Review.Kind.RATING).exists()
    assert Assignment.objects.filter(is_lead=False, answered_at__isnull=False).exists()
    assert Assignment.objects.filter(approved_by__isnull=False).exists()
    for appeal in Appeal.objects.all()[:60]:
        moments = list(AppealEvent.objects.filter(appeal=appeal).order_by("id").values_list("at", flat=True))
        assert moments == sorted(moments), appeal  # a replayed history runs forwards
        assert moments[0] == appeal.submitted_at
    assert not Appeal.objects.filter(status=Status.CLOSED, closed_at__isnull=True).exists()
