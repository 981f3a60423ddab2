"""The briefings page and API: who sees which briefings, who generates them, downloads audited;
who may not (enterprise users, stewards, handlers, dispatchers: 403; another zone's leader: 404)."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from guanjia.cockpit import services
from guanjia.cockpit.briefing import Kind
from guanjia.cockpit.models import Briefing
from guanjia.cockpit.tests.briefing_helpers import NOW, WEEK, at, build_fortnight
from guanjia.core.models import AuditRecord


@pytest.fixture
def made(cast, settings, tmp_path):
    """The fortnight, with last week's 周报 of zone A, zone B and the city."""
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    world = build_fortnight(cast)
    world.briefings = {
        key: services.generate_briefing(Kind.WEEKLY, zone, by=None, start=WEEK.start, now=NOW).briefing
        for key, zone in (("a", cast.zone_a), ("b", cast.zone_b), ("city", None))
    }
    return world


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def _listed(response) -> set[int]:
    return {
        int(pk) for pk in __import__("re").findall(r'data-testid="briefing-(\d+)"', response.content.decode())
    }


def test_the_list_shows_the_users_scope(made, login):
    cast, b = made.cast, made.briefings
    for user, expected in (
        (cast.leader_a, {b["a"].pk}),
        (cast.supervisor_a, {b["a"].pk}),
        (made.leader_b, {b["b"].pk}),
        (cast.leader_city, {b["a"].pk, b["b"].pk, b["city"].pk}),
        (made.supervisor_city, {b["a"].pk, b["b"].pk, b["city"].pk}),
    ):
        response = login(user).get("/cockpit/briefings/")
        assert response.status_code == 200, user
        assert _listed(response) == expected, user
        assert "生成周报" in response.content.decode() and "生成月报" in response.content.decode()


@pytest.mark.parametrize(
    "who", ["ent_user_a1", "steward_a", "handler_a", "dispatcher_a", "promoter_a", "sysadmin", "outsider"]
)
def test_others_may_not_open_generate_or_download(made, login, who):
    client = login(getattr(made.cast, who))
    assert client.get("/cockpit/briefings/").status_code == 403
    assert client.post("/cockpit/briefings/generate/", {"kind": "weekly", "scope": "city"}).status_code == 403
    assert client.get(f"/cockpit/briefings/{made.briefings['a'].pk}/pdf/").status_code == 403
    api = _api(getattr(made.cast, who))
    assert api.get("/api/briefings/").status_code == 403
    assert api.post("/api/briefings/", {"kind": "weekly"}, format="json").status_code == 403
    assert api.get(f"/api/briefings/{made.briefings['a'].pk}/pdf/").status_code == 403
    assert not AuditRecord.objects.filter(action="briefing.download").exists()


def test_another_zones_leader_gets_404(made, login):
    b = made.briefings
    for user in (made.leader_b, made.cast.leader_a):
        client, api = login(user), _api(user)
        for other in (b["a"] if user == made.leader_b else b["b"], b["city"]):
            for fmt in ("pdf", "xlsx"):
                assert client.get(f"/cockpit/briefings/{other.pk}/{fmt}/").status_code == 404
                assert api.get(f"/api/briefings/{other.pk}/{fmt}/").status_code == 404
            assert api.get(f"/api/briefings/{other.pk}/").status_code == 404
    assert not AuditRecord.objects.filter(action="briefing.download").exists()


def test_downloads_are_the_files_and_are_audited(made, login):
    cast, b = made.cast, made.briefings
    response = login(cast.leader_a).get(f"/cockpit/briefings/{b['a'].pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        "attachment;" in response["Content-Disposition"] and "nosniff" in response["X-Content-Type-Options"]
    )
    content = b"".join(response.streaming_content)
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)
    assert "高新区周报" in text and "按时办结率" in text
    response = _api(cast.leader_city).get(f"/api/briefings/{b['city'].pk}/xlsx/")
    assert response.status_code == 200
    book = load_workbook(BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    assert "园区排名" in book.sheetnames
    records = AuditRecord.objects.filter(action="briefing.download").order_by("pk")
    assert [(r.actor_id, r.detail["format"]) for r in records] == [
        (cast.leader_a.pk, "pdf"),
        (cast.leader_city.pk, "xlsx"),
    ]


def test_generating_from_the_page(made, login):
    cast = made.cast
    client = login(cast.leader_a)
    form = client.get("/cockpit/briefings/").context["form"]
    assert [value for value, _label in form.fields["scope"].choices] == [
        str(cast.zone_a.pk)
    ]  # no city, no zone B
    with at(3, 17, 9):
        response = client.post(
            "/cockpit/briefings/generate/", {"kind": "monthly", "scope": str(cast.zone_a.pk)}, follow=True
        )
    assert response.status_code == 200 and "已生成月报" in response.content.decode()
    made_now = Briefing.objects.get(kind=Kind.MONTHLY, zone=cast.zone_a)
    assert made_now.generated_by == cast.leader_a and str(made_now.starts_on) == "2026-02-01"
    # Another zone, or the city: not a choice; an unfinished week: refused with the field named.
    with at(3, 17, 9):
        for body in (
            {"kind": "weekly", "scope": str(cast.zone_b.pk)},
            {"kind": "weekly", "scope": "city"},
            {"kind": "weekly", "scope": str(cast.zone_a.pk), "start": "2026-03-16"},
            {"kind": "weekly", "scope": str(cast.zone_a.pk), "start": "2026-03-10"},
        ):
            response = client.post("/cockpit/briefings/generate/", body)
            assert response.status_code == 200 and response.context["form"].errors, body
    assert Briefing.objects.count() == 4
    # Again for zone A's week: regenerated, the same row.
    with at(3, 17, 9):
        response = client.post(
            "/cockpit/briefings/generate/",
            {"kind": "weekly", "scope": str(cast.zone_a.pk), "start": "2026-03-09"},
            follow=True,
        )
    assert "已重新生成周报" in response.content.decode()
    made.briefings["a"].refresh_from_db()
    assert made.briefings["a"].version == 2 and made.briefings["a"].generated_by == cast.leader_a
    assert client.get("/cockpit/briefings/generate/").status_code == 405


def test_the_api_lists_generates_and_refuses(made):
    cast, b = made.cast, made.briefings
    listed = _api(cast.leader_a).get("/api/briefings/").json()
    assert [row["id"] for row in listed["results"]] == [b["a"].pk]
    row = listed["results"][0]
    assert (row["kind"], row["zone"], row["zone_name"], row["starts_on"], row["last_day"]) == (
        "weekly",
        cast.zone_a.pk,
        "高新区",
        "2026-03-09",
        "2026-03-15",
    )
    assert {f["format"] for f in row["files"]} == {"pdf", "xlsx"} and row["generated_by"] is None
    city = _api(cast.leader_city)
    assert {r["id"] for r in city.get("/api/briefings/").json()["results"]} == {
        b["a"].pk,
        b["b"].pk,
        b["city"].pk,
    }
    assert [r["id"] for r in city.get(f"/api/briefings/?zone={cast.zone_b.pk}").json()["results"]] == [
        b["b"].pk
    ]
    assert city.get("/api/briefings/?kind=monthly").json()["results"] == []
    assert city.get("/api/briefings/?kind=daily").status_code == 400

    with at(3, 17, 9):
        created = _api(cast.leader_a).post("/api/briefings/", {"kind": "monthly"}, format="json")
        assert created.status_code == 201, created.content
        assert (created.json()["zone"], created.json()["starts_on"]) == (cast.zone_a.pk, "2026-02-01")
        again = _api(cast.supervisor_a).post(
            "/api/briefings/",
            {"kind": "weekly", "zone": cast.zone_a.pk, "start": "2026-03-09"},
            format="json",
        )
        assert again.status_code == 200 and again.json()["version"] == 2 and again.json()["id"] == b["a"].pk
        city_made = city.post("/api/briefings/", {"kind": "monthly"}, format="json")
        assert city_made.status_code == 201 and city_made.json()["zone"] is None
        # A zone's leader: not the city's, not another zone's (it "does not exist" for it).
        refused = _api(cast.leader_a).post("/api/briefings/", {"kind": "weekly", "zone": None}, format="json")
        assert refused.status_code == 403
        other = _api(cast.leader_a).post(
            "/api/briefings/", {"kind": "weekly", "zone": cast.zone_b.pk}, format="json"
        )
        assert other.status_code == 400 and "zone" in other.json()
        early = _api(cast.leader_a).post(
            "/api/briefings/", {"kind": "weekly", "start": "2026-03-16"}, format="json"
        )
        assert early.status_code == 400 and "尚未结束" in early.json()["detail"]
    assert Briefing.objects.count() == 5
