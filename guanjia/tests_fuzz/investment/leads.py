"""API fuzz positive cases of the investment app: leads."""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.core.roles import Role
from guanjia.investment import leads
from guanjia.investment.access import promoters_of_zone, today
from guanjia.investment.models import Lead, LeadSource, LeadStatus, Target
from guanjia.testing import make_user
from guanjia.tests_fuzz.world import Positive

PATH = "/api/investment/leads/"


def _zone(promoter: User):
    assert promoter.unit is not None, promoter
    zone = promoter.unit.zone
    assert zone is not None, promoter
    return zone


def _target(promoter: User) -> Target:
    """A target of the promoter's zone: the demo library's first, or one made for the fuzz test."""
    zone = _zone(promoter)
    target = Target.objects.filter(zone=zone).order_by("pk").first()
    if target is None:
        target = Target.objects.create(zone=zone, name="模糊测试目标企业", created_by=promoter)
    return target


def _colleague(promoter: User) -> User:
    """Another promoter of the zone, to hand a lead to."""
    zone = _zone(promoter)
    other = promoters_of_zone(zone).exclude(pk=promoter.pk).first()
    return other or make_user("fuzz_promoter_2", zone, Role.PROMOTER)


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    promoter = users["promoter"]
    target = _target(promoter)

    def fresh(summary: str) -> Lead:
        # A lead of its own for each versioned write, so that no positive case stales another's version.
        return leads.create_lead(
            target=target,
            source=LeadSource.EXPO,
            summary=summary,
            contacts=[{"name": "模糊测试联系人", "phone": "13800000000"}],
            by=promoter,
        )

    read, patched, moved, handed, noted = (fresh(f"模糊测试线索 {n}") for n in range(5))
    contact = noted.contacts.get()
    return [
        Positive(f"GET {PATH}", "leader", query={"status": LeadStatus.NEW, "owner": "mine"}),
        Positive(
            f"POST {PATH}",
            "promoter",
            body={
                "target": target.pk,
                "source": LeadSource.ASSOCIATION,
                "source_detail": "商会推荐",
                "contacts": [{"name": "李总", "phone": "13912345678"}],
            },
        ),
        Positive(f"GET {PATH}{{id}}/", "leader", {"id": read.pk}),
        Positive(
            f"PATCH {PATH}{{id}}/", "promoter", {"id": patched.pk}, body={"summary": "对方来访", "version": 1}
        ),
        Positive(
            f"POST {PATH}{{id}}/move/",
            "promoter",
            {"id": moved.pk},
            body={"to": LeadStatus.CONTACTING, "version": 1},
        ),
        Positive(
            f"POST {PATH}{{id}}/reassign/",
            "promoter",
            {"id": handed.pk},
            body={"owner": _colleague(promoter).pk, "version": 1},
        ),
        Positive(
            f"POST {PATH}{{id}}/contacts/",
            "promoter",
            {"id": noted.pk},
            body={"name": "王经理", "position": "总经理", "phone": "0512-66881234"},
        ),
        Positive(
            f"DELETE {PATH}{{id}}/contacts/{{contact_id}}/",
            "promoter",
            {"id": noted.pk, "contact_id": contact.pk},
        ),
        Positive(
            f"POST {PATH}{{id}}/logs/",
            "promoter",
            {"id": noted.pk},
            body={"happened_on": today().isoformat(), "mode": "phone", "summary": "电话沟通投资意向"},
        ),
    ]
