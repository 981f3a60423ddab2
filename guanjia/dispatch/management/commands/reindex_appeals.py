"""guanjia reindex_appeals [--zone CODE]: rewrite the search entries of appeals and answers, and the
similarity bands, for the appeals already there (the receivers keep them up to date from then on).

Written in batches, each in its own short transaction, so that the appeals' writers wait seconds at most."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from guanjia.appeals.models import Appeal, Assignment
from guanjia.core import search
from guanjia.core.models import OrgUnit
from guanjia.dispatch import similar
from guanjia.dispatch.searching import ANSWER_KIND, APPEAL_KIND

BATCH = 1000


class Command(BaseCommand):
    help = "重建诉求与答复的全文检索索引和相似诉求索引"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--zone", help="只处理该园区（组织机构代码）的诉求")
        parser.add_argument("--batch", type=int, default=BATCH)

    def handle(self, *args: Any, **options: Any) -> None:
        zone_id = None
        if options["zone"]:
            zone = OrgUnit.objects.filter(code=options["zone"], kind=OrgUnit.Kind.ZONE).first()
            if zone is None:
                raise CommandError(f"园区代码不存在：{options['zone']}")
            zone_id = zone.pk
        batch = max(1, options["batch"])
        appeals = Appeal.objects.order_by("pk")
        answers = Assignment.objects.filter(answered_at__isnull=False).exclude(answer="").order_by("pk")
        if zone_id is not None:
            appeals = appeals.filter(zone_id=zone_id)
            answers = answers.filter(appeal__zone_id=zone_id)
        appeal_count = self._each(APPEAL_KIND, appeals.values_list("pk", "title", "body"), batch)
        answer_count = self._each(ANSWER_KIND, answers.values_list("pk", "appeal__title", "answer"), batch)
        bands = similar.rebuild(zone_id)
        self.stdout.write(
            f"诉求 {appeal_count} 条、答复 {answer_count} 条已重建检索索引；相似诉求索引 {bands} 条"
        )

    def _each(self, kind: str, rows: Any, batch: int) -> int:
        """Index the (id, title, body) rows in batches; how many there were."""
        done = 0
        last = 0
        while True:
            chunk = list(rows.filter(pk__gt=last)[:batch])
            if not chunk:
                return done
            with transaction.atomic():
                search.index_many(kind, chunk)
            done += len(chunk)
            last = chunk[-1][0]
