"""Two clicks at once: a lead converts into exactly one project; a project moves once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanjia.core.errors import ServiceError
from guanjia.investment import access, projects
from guanjia.investment.models import Lead, LeadStatus, LeadTransition, Project, ProjectEvent, Stage
from guanjia.investment.tests.helpers import make_lead, make_promoter, make_target
from guanjia.testing import build_cast, run_concurrently


@pytest.mark.django_db(transaction=True)
def test_a_lead_converts_exactly_once_under_two_concurrent_clicks():
    cast = build_cast()
    colleague = make_promoter("promoter_a2", cast.zone_a)
    lead = make_lead(make_target(cast.zone_a), cast.promoter_a, status=LeadStatus.NEGOTIATING)
    # Each click read the lead as 洽谈中 before either converted it.
    mine, theirs = Lead.objects.get(pk=lead.pk), Lead.objects.get(pk=lead.pk)

    def convert(copy: Lead, by) -> Project:
        return projects.create_project(
            lead=copy, name="示例锂电项目", owner=cast.promoter_a, by=by, investment_planned=Decimal("20000")
        )

    results = run_concurrently(lambda: convert(mine, cast.promoter_a), lambda: convert(theirs, colleague))

    created = [r for r in results if isinstance(r, Project)]
    refused = [r for r in results if isinstance(r, ServiceError)]  # Conflict, or "already converted"
    assert (len(created), len(refused)) == (1, 1), results
    assert Project.objects.filter(lead=lead).count() == 1 == Project.objects.count()
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONVERTED
    assert LeadTransition.objects.filter(lead=lead, to_status=LeadStatus.CONVERTED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_advances_of_one_project_move_it_once():
    cast = build_cast()
    project = projects.create_project(
        zone=cast.zone_a,
        name="示例项目",
        owner=cast.promoter_a,
        by=cast.promoter_a,
        investment_planned=Decimal("1"),
    )
    mine, theirs = Project.objects.get(pk=project.pk), Project.objects.get(pk=project.pk)
    today = access.today()

    results = run_concurrently(
        lambda: projects.advance_project(mine, to=Stage.NEGOTIATING, on=today, by=cast.promoter_a),
        lambda: projects.advance_project(theirs, to=Stage.STARTED, on=today, by=cast.promoter_a),
    )

    assert sum(isinstance(r, Project) for r in results) == 1, results
    assert sum(isinstance(r, ServiceError) for r in results) == 1, results
    stored = Project.objects.get(pk=project.pk)
    assert stored.version == 2
    assert ProjectEvent.objects.filter(project=project, kind="advance").count() == 1
    assert stored.stage in (Stage.NEGOTIATING, Stage.STARTED)
