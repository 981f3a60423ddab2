from collections import Counter
from io import StringIO

from django.core.management import call_command

from guanjia.appeals.models import Appeal, AppealEvent, Assignment, Status


def test_demo_appeals_cover_the_lifecycle(db):
    call_command("demo_data", "--enterprises", "80", stdout=StringIO())
    statuses = Counter(Appeal.objects.values_list("status", flat=True))
    assert statuses[Status.CLOSED] > 0 and statuses[Status.DISPATCHED] > 0
    assert statuses[Status.SIGNED] + statuses[Status.ANSWERED] > 0
    assert Appeal.objects.filter(reopen_count__gt=0).exists()
    assert Assignment.objects.filter(kind=Assignment.Kind.REOPEN).exists()
    for appeal in Appeal.objects.all()[:60]:
        moments = list(AppealEvent.objects.filter(appeal=appeal).order_by("id").values_list("at", flat=True))
        assert moments == sorted(moments), appeal  # a replayed history runs forwards
        assert moments[0] == appeal.submitted_at
    assert not Appeal.objects.filter(status=Status.CLOSED, closed_at__isnull=True).exists()
