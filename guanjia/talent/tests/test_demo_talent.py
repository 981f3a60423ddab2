"""The talent part of `guanjia demo-data`: tiers A–E and the five routes of 高新区, and the needs,
applications (approved, submitted, rejected) and services (one overdue, one granted) of the demo
enterprise user's enterprise, which its people can open."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from guanjia.enterprises.demo import DEMO_PASSWORD
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.talent.models import (
    ApplicationStatus,
    NeedStatus,
    ServiceStatus,
    TalentApplication,
    TalentNeed,
    TalentService,
    TalentServiceRoute,
    TalentTier,
)

COUNT = 40


@pytest.fixture(scope="module")
def demo_area(django_db_setup, django_db_blocker):
    """The demo, built once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo_data", "--enterprises", str(COUNT), stdout=StringIO())
        yield
        transaction.set_rollback(True)


def test_the_demo_holds_every_state_the_pages_show(demo_area, db):
    enterprise = EnterpriseMembership.objects.get(user__username="gj_enterprise").enterprise
    zone = enterprise.zone
    assert list(TalentTier.objects.filter(zone=zone).values_list("code", flat=True)) == [
        "A",
        "B",
        "C",
        "D",
        "E",
    ]
    routes = dict(TalentServiceRoute.objects.filter(zone=zone).values_list("kind", "department__name"))
    assert routes == {
        "recognition": "高新区人力资源和社会保障局",
        "housing": "高新区住房和城乡建设局",
        "schooling": "高新区人力资源和社会保障局",
        "medical": "高新区人力资源和社会保障局",
        "settlement": "高新区人力资源和社会保障局",
    }
    assert TalentNeed.objects.filter(enterprise=enterprise, status=NeedStatus.OPEN).count() == 2
    statuses = sorted(
        TalentApplication.objects.filter(enterprise=enterprise).values_list("status", flat=True)
    )
    assert statuses == sorted(
        [
            ApplicationStatus.APPROVED,
            ApplicationStatus.APPROVED,
            ApplicationStatus.SUBMITTED,
            ApplicationStatus.REJECTED,
        ]
    )
    found = list(TalentService.objects.filter(enterprise=enterprise))
    assert sorted(s.status for s in found) == sorted(
        [ServiceStatus.REQUESTED, ServiceStatus.REQUESTED, ServiceStatus.GRANTED]
    )
    assert [s.kind for s in found if s.is_overdue()] == ["schooling"]
    assert [s.result for s in found if s.status == ServiceStatus.GRANTED] == [
        "已办理区人民医院人才就医绿卡，凭卡优先挂号"
    ]


def test_the_demo_accounts_open_their_pages(demo_area, db):
    for username, path, text in (
        ("gj_enterprise", "/portal/talent/", "张博文"),
        ("gj_handler_hr", "/talent/", "李明哲"),
        ("gj_leader", "/talent/", "按产业链"),
        ("gj_leader", "/talent/settings/", "顶尖人才"),
    ):
        client = Client()
        assert client.login(username=username, password=DEMO_PASSWORD), username
        page = client.get(path)
        assert page.status_code == 200 and text in page.content.decode(), (username, path)
