from datetime import datetime
from zoneinfo import ZoneInfo

from guanjia.core.templatetags.deadlines import deadline

BJ = ZoneInfo("Asia/Shanghai")


def test_midnight_reads_as_24_00_of_the_day_before():
    assert deadline(datetime(2026, 3, 1, 0, 0, tzinfo=BJ)) == "2026-02-28 24:00"
    assert deadline(datetime(2026, 3, 1, 15, 30, tzinfo=BJ)) == "2026-03-01 15:30"
    assert deadline(datetime(2026, 2, 28, 16, 0, tzinfo=ZoneInfo("UTC"))) == "2026-02-28 24:00"
    assert deadline(None) == ""
