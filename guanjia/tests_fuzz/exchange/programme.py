"""API fuzz positives of the exchange app: programme (pairings, secondments, the cadre's notes, activities
and sourced leads, and the promoter's take and decline). The demo's supervisor keeps pairings and
secondments, its leader reads, its cadre (gj_cadre, seconded now) writes on its own secondment, and its
promoter takes or declines the sourced leads."""

from __future__ import annotations

from datetime import timedelta

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.exchange import programme, sourcing
from guanjia.exchange.access import today
from guanjia.exchange.models import Secondment, SourcedLead
from guanjia.testing import make_user
from guanjia.tests_fuzz.world import Positive

CADRE_ROLE = "seconded_cadre"
CADRE_USERNAME = "gj_cadre"  # the demo's cadre (guanjia/enterprises/demo.py); the fuzz token's account


def _zone(user: User) -> OrgUnit:
    assert user.unit is not None, user
    zone = user.unit.zone
    assert zone is not None, user
    return zone


def _running_secondment(cadre: User) -> Secondment:
    """The cadre's secondment that runs today (the demo seconds gj_cadre now)."""
    day = today()
    secondment = (
        Secondment.objects.filter(cadre=cadre, starts_on__lte=day, ends_on__gte=day)
        .select_related("pairing")
        .first()
    )
    assert secondment is not None, f"{cadre} has no running secondment in the demo"
    return secondment


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    supervisor, promoter = users["supervisor"], users["promoter"]
    cadre = users.get(CADRE_ROLE) or User.objects.get(username=CADRE_USERNAME)
    zone = _zone(supervisor)
    day = today()
    current = _running_secondment(cadre)
    # A cadre of the zone with no secondment yet: the API's new secondments are its.
    newcomer = make_user("fuzz_cadre", zone, Role.SECONDED_CADRE)

    def pairing(n: int):
        return programme.create_pairing(
            local_unit=zone,
            by=supervisor,
            partner_unit=f"模糊测试结对园区 {n}",
            partner_city="嘉兴市",
            partner_province="浙江省",
            started_on=day - timedelta(days=30),
        )

    read_pairing, patched_pairing = pairing(1), pairing(2)
    patched_secondment = programme.create_secondment(
        pairing=patched_pairing,
        cadre=newcomer,
        by=supervisor,
        host_unit="嘉兴经开区管委会",
        post="招商局副局长",
        starts_on=day + timedelta(days=400),
        ends_on=day + timedelta(days=500),
    )

    def note(n: int):
        return programme.add_note(
            current, by=cadre, title=f"模糊测试见闻 {n}", body="内容。", observed_on=day
        )

    def activity(n: int):
        return programme.add_activity(current, by=cadre, title=f"模糊测试对接会 {n}", held_on=day)

    def sourced(n: int) -> SourcedLead:
        return sourcing.submit(
            current,
            by=cadre,
            company_name=f"模糊测试推荐企业 {n}",
            summary="拟投资。",
            contact_name="李总",
            contact_phone="13912345678",
        )

    read_note, patched_note, deleted_note = note(1), note(2), note(3)
    read_activity, patched_activity, deleted_activity = activity(1), activity(2), activity(3)
    read_sourced, patched_sourced, taken, declined = (sourced(n) for n in range(1, 5))
    day_text = day.isoformat()
    return [
        # --- pairings ---
        Positive("GET /api/pairings/", "leader"),
        Positive(
            "POST /api/pairings/",
            "supervisor",
            body={
                "local_unit": zone.pk,
                "partner_unit": "模糊测试新结对园区",
                "partner_city": "苏州市",
                "partner_province": "江苏省",
                "started_on": day_text,
                "focus": "产业链招商",
            },
        ),
        Positive("GET /api/pairings/{id}/", "leader", {"id": read_pairing.pk}),
        Positive(
            "PATCH /api/pairings/{id}/",
            "supervisor",
            {"id": patched_pairing.pk},
            body={"focus": "干部交流", "version": patched_pairing.version},
        ),
        # --- secondments ---
        Positive("GET /api/secondments/", "leader", query={"pairing": current.pairing_id}),
        Positive(
            "POST /api/secondments/",
            "supervisor",
            body={
                "pairing": read_pairing.pk,
                "cadre": newcomer.pk,
                "host_unit": "嘉兴经开区管委会",
                "post": "经发局副局长",
                "kind": "shadow",
                "starts_on": (day + timedelta(days=100)).isoformat(),
                "ends_on": (day + timedelta(days=200)).isoformat(),
            },
        ),
        Positive("GET /api/secondments/{id}/", "leader", {"id": current.pk}),
        Positive(
            "PATCH /api/secondments/{id}/",
            "supervisor",
            {"id": patched_secondment.pk},
            body={"tasks": "学习链式招商", "version": patched_secondment.version},
        ),
        # --- learning notes ---
        Positive("GET /api/learning-notes/", "leader", query={"secondment": current.pk}),
        Positive(
            "POST /api/learning-notes/",
            CADRE_ROLE,
            body={
                "secondment": current.pk,
                "title": "一窗通办",
                "body": "企业开办一日办结。",
                "observed_on": day_text,
            },
        ),
        Positive("GET /api/learning-notes/{id}/", "leader", {"id": read_note.pk}),
        Positive(
            "PATCH /api/learning-notes/{id}/",
            CADRE_ROLE,
            {"id": patched_note.pk},
            body={"title": "拿地即开工", "version": patched_note.version},
        ),
        Positive("DELETE /api/learning-notes/{id}/", CADRE_ROLE, {"id": deleted_note.pk}),
        # --- liaison activities ---
        Positive("GET /api/liaison-activities/", "supervisor"),
        Positive(
            "POST /api/liaison-activities/",
            CADRE_ROLE,
            body={"secondment": current.pk, "title": "新能源对接会", "held_on": day_text, "place": "昆山"},
        ),
        Positive("GET /api/liaison-activities/{id}/", "leader", {"id": read_activity.pk}),
        Positive(
            "PATCH /api/liaison-activities/{id}/",
            CADRE_ROLE,
            {"id": patched_activity.pk},
            body={"outcome": "签约一家", "version": patched_activity.version},
        ),
        Positive("DELETE /api/liaison-activities/{id}/", CADRE_ROLE, {"id": deleted_activity.pk}),
        # --- sourced leads ---
        Positive("GET /api/sourced-leads/", "promoter", query={"status": "submitted"}),
        Positive(
            "POST /api/sourced-leads/",
            CADRE_ROLE,
            body={
                "secondment": current.pk,
                "company_name": "模糊测试新能源有限公司",
                "summary": "拟新建储能基地。",
                "industry": "储能",
                "contact_name": "王总",
                "contact_phone": "0512-66881234",
            },
        ),
        Positive("GET /api/sourced-leads/{id}/", "leader", {"id": read_sourced.pk}),
        Positive(
            "PATCH /api/sourced-leads/{id}/",
            CADRE_ROLE,
            {"id": patched_sourced.pk},
            body={"industry": "新型储能", "version": patched_sourced.version},
        ),
        Positive(
            "POST /api/sourced-leads/{id}/take/",
            "promoter",
            {"id": taken.pk},
            body={"owner": promoter.pk, "version": taken.version},
        ),
        Positive(
            "POST /api/sourced-leads/{id}/decline/",
            "promoter",
            {"id": declined.pk},
            body={"reason": "不符合本园区产业定位", "version": declined.version},
        ),
    ]
