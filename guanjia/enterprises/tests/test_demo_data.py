"""`guanjia demo-data`: every role can log in, codes are valid, stewards are assigned, and a seed repeats."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from stdnum.cn import uscc as stdnum_uscc

from guanjia.core.models import AuditRecord, RoleGrant, User
from guanjia.core.roles import ADMIN_ROLES, Role
from guanjia.enterprises import demo
from guanjia.enterprises.models import Enterprise, EnterpriseMembership, StewardAssignment, Tier

pytestmark = pytest.mark.django_db

COUNT = 40


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # PBKDF2 costs most of a second per login check; what is tested here is the accounts, not the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load(*args: str) -> str:
    out = StringIO()
    call_command("demo_data", "--enterprises", str(COUNT), *args, stdout=out)
    return out.getvalue()


def test_every_role_has_an_active_user_and_admins_hold_nothing_else():
    load()
    for role in Role:
        assert User.objects.with_role(role).exists(), role
    for user in User.objects.filter(role_grants__role__in=ADMIN_ROLES):
        assert len(user.roles) == 1, user.username
    member = EnterpriseMembership.objects.select_related("enterprise").get(user__username="gj_enterprise")
    steward = member.enterprise.steward
    assert member.is_active and steward is not None and steward.username == "gj_steward1"
    assert AuditRecord.objects.filter(action="demo.load").count() == 1


def test_enterprises_have_valid_unique_codes_and_consistent_fields():
    load()
    enterprises = list(Enterprise.objects.prefetch_related("tags", "contacts"))
    assert len(enterprises) == COUNT
    codes = [e.uscc for e in enterprises]
    assert len(set(codes)) == COUNT
    assert all(stdnum_uscc.is_valid(code) for code in codes)
    assert len({e.name for e in enterprises}) == COUNT
    for e in enterprises:
        assert e.industry_division and e.industry_section
        assert ("规上" in {t.name for t in e.tags.all()}) == (e.tier != Tier.GENERAL), e.name
        assert 1 <= len(e.contacts.all()) <= 2
        assert all(c.phone.isdigit() and len(c.phone) == 11 for c in e.contacts.all())


def test_each_enterprise_has_one_steward_of_its_zone_but_a_few():
    load()
    unassigned = Enterprise.objects.filter(steward__isnull=True)
    assert unassigned.count() == demo.UNASSIGNED_PER_ZONE * len(demo.ZONES)
    assert not StewardAssignment.objects.filter(enterprise__in=unassigned).exists()
    for e in Enterprise.objects.filter(steward__isnull=False).select_related("steward__unit", "zone"):
        active = list(StewardAssignment.objects.filter(enterprise=e, ended_at__isnull=True))
        assert len(active) == 1 and active[0].steward_id == e.steward_id, e.name
        steward = e.steward
        assert steward is not None and steward.has_role(Role.STEWARD)
        assert e.zone_id in steward.zone_ids(), e.name


def test_same_seed_same_area():
    def snapshot() -> list[tuple[str, str]]:
        with transaction.atomic():
            load("--seed", "7")
            result = list(Enterprise.objects.order_by("uscc").values_list("name", "uscc"))
            transaction.set_rollback(True)
        return result

    first = snapshot()
    assert not Enterprise.objects.exists()
    assert snapshot() == first
    with transaction.atomic():
        load("--seed", "8")
        assert list(Enterprise.objects.order_by("uscc").values_list("name", "uscc")) != first
        transaction.set_rollback(True)


def test_if_empty_adds_nothing_to_a_loaded_database():
    load()
    counts = (Enterprise.objects.count(), User.objects.count(), RoleGrant.objects.count())
    out = load("--if-empty")
    assert "不再装入" in out
    assert (Enterprise.objects.count(), User.objects.count(), RoleGrant.objects.count()) == counts


def test_printed_logins_authenticate():
    out = load()
    lines = [line.split() for line in out.splitlines() if demo.DEMO_PASSWORD in line]
    assert len(lines) == len(demo.DEMO_LOGINS)  # one per role, and the windows' staff (gj_window1)
    assert {line[0] for line in lines} == {str(role.label) for role in Role}
    for _label, username, password, *_ in lines:
        assert authenticate(username=username, password=password) is not None, username
