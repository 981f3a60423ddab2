"""guanjia calendar add-workdays DATE N | workdays-between A B | is-workday DATE | coverage

Answers go to stdout alone (an ISO date, a number, yes/no), so that scripts can use
them; a note that the answer is provisional goes to stderr.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guanjia.core import workcalendar


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应写作 YYYY-MM-DD，例如 2026-02-13（收到“{text}”）") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"工作日数应为正整数（收到“{text}”）")
    return value


class Command(BaseCommand):
    help = "Working-day arithmetic on the work calendar (工作日历), and which years it covers."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add-workdays", help="the Nth working day after DATE (DATE itself never counts)")
        add.add_argument("day", metavar="DATE", type=iso_date)
        add.add_argument("n", metavar="N", type=positive_int)
        between = sub.add_parser("workdays-between", help="working days in (A, B]: A excluded, B included")
        between.add_argument("start", metavar="A", type=iso_date)
        between.add_argument("end", metavar="B", type=iso_date)
        check = sub.add_parser("is-workday", help="yes or no")
        check.add_argument("day", metavar="DATE", type=iso_date)
        sub.add_parser("coverage", help="the years whose official schedule is known")

    def handle(self, *args, action: str, **options) -> None:
        if action == "add-workdays":
            day, n = options["day"], options["n"]
            try:
                result = workcalendar.add_workdays(day, n)
            except (OverflowError, ValueError) as exc:
                raise CommandError("结果超出了可计算的日期范围") from exc
            self.stdout.write(result.isoformat())
            self._note_provisional(day, result)
        elif action == "workdays-between":
            start, end = options["start"], options["end"]
            self.stdout.write(str(workcalendar.workdays_between(start, end)))
            self._note_provisional(start, end)
        elif action == "is-workday":
            day = options["day"]
            self.stdout.write("yes" if workcalendar.is_workday(day) else "no")
            if not workcalendar.is_covered(day.year):
                self._warn([day.year])
        else:
            self._coverage()

    def _note_provisional(self, after: date, through: date) -> None:
        if workcalendar.is_provisional(after, through):
            first = (after + timedelta(days=1)).year
            self._warn([y for y in range(first, through.year + 1) if not workcalendar.is_covered(y)])

    def _warn(self, years: list[int]) -> None:
        self.stderr.write(
            f"注意（provisional）：{workcalendar.format_years(years, sep='、')} 年的官方节假日安排尚未录入，"
            "按周一至周五临时计算"
        )

    def _coverage(self) -> None:
        import chinese_calendar

        self.stdout.write(workcalendar.format_years(workcalendar.coverage()))
        library = workcalendar.format_years(workcalendar.library_years())
        self.stdout.write(f"内置（chinesecalendar {chinese_calendar.__version__}）：{library}")
        declared = workcalendar.declared_years()
        self.stdout.write(
            f"管理员声明完整：{workcalendar.format_years(declared, sep='、') if declared else '无'}"
        )
        today = timezone.localdate()
        labels = {today.year: "今年", today.year + 1: "明年"}
        missing = workcalendar.upcoming_uncovered_years(today)
        if missing:
            names = "、".join(f"{y}（{labels[y]}）" for y in missing)
            self.stdout.write(
                f"未覆盖：{names}——期限按周一至周五临时计算；请在“工作日历”页面录入国务院公布的安排并声明完整"
            )
        else:
            self.stdout.write(f"今年和明年（{today.year}、{today.year + 1}）均已覆盖")
