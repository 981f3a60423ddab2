"""The programme's API: /api/pairings/, /api/secondments/, /api/learning-notes/, /api/liaison-activities/
and /api/sourced-leads/ (with take and decline) — who reads, who writes, and who gets 403, 404 or 400."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from guanjia.exchange.models import LearningNote, Pairing, Secondment, SourcedLead, SourcedLeadStatus
from guanjia.exchange.tests.helpers import (
    build_scene,
    make_activity,
    make_cadre,
    make_note,
    make_sourced_lead,
)
from guanjia.investment.models import Lead, LeadSource


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def scene(cast):
    return build_scene(cast)


@pytest.fixture
def api():
    def _api(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _api


def _ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


# --- pairings and secondments ------------------------------------------------------------------------


def test_the_supervisor_creates_and_patches_pairings(cast, api):
    client = api(cast.supervisor_a)
    created = client.post(
        "/api/pairings/",
        {
            "local_unit": cast.market_a.pk,
            "partner_unit": "嘉兴经开区",
            "partner_city": "嘉兴市",
            "partner_province": "浙江省",
            "started_on": "2026-01-05",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["zone"], body["local_unit"], body["version"]) == (cast.zone_a.pk, cast.market_a.pk, 1)

    url = f"/api/pairings/{body['id']}/"
    patched = client.patch(url, {"focus": "营商环境", "version": 1}, format="json")
    assert patched.status_code == 200 and patched.json()["focus"] == "营商环境"
    assert client.patch(url, {"focus": "x", "version": 1}, format="json").status_code == 409
    assert client.patch(url, {"focus": "x"}, format="json").status_code == 400  # the version is required
    duplicate = client.post(
        "/api/pairings/",
        {
            "local_unit": cast.market_a.pk,
            "partner_unit": "嘉兴经开区",
            "partner_city": "嘉兴市",
            "partner_province": "浙江省",
            "started_on": "2026-01-05",
        },
        format="json",
    )
    assert duplicate.status_code == 400 and "结对单位" in duplicate.json()["detail"]


def test_a_local_unit_of_another_zone_does_not_exist_for_the_supervisor(cast, api):
    response = api(cast.supervisor_a).post(
        "/api/pairings/",
        {
            "local_unit": cast.centre_b.pk,
            "partner_unit": "嘉兴经开区",
            "partner_city": "嘉兴市",
            "partner_province": "浙江省",
            "started_on": "2026-01-05",
        },
        format="json",
    )
    assert response.status_code == 400 and "local_unit" in response.json()


def test_the_leader_reads_and_gets_403_on_writes(cast, api, scene):
    client = api(cast.leader_a)
    assert _ids(client.get("/api/pairings/")) == {scene.pairing.pk}
    assert client.get(f"/api/secondments/{scene.secondment.pk}/").status_code == 200
    assert client.post("/api/pairings/", {}, format="json").status_code == 403
    assert (
        client.patch(f"/api/pairings/{scene.pairing.pk}/", {"version": 1}, format="json").status_code == 403
    )
    assert client.post("/api/secondments/", {}, format="json").status_code == 403
    assert client.post("/api/learning-notes/", {}, format="json").status_code == 403


def test_another_zones_supervisor_gets_404_on_zone_as_objects(api, scene):
    client = api(scene.supervisor_b)
    assert _ids(client.get("/api/pairings/")) == set()
    assert _ids(client.get("/api/secondments/")) == set()
    assert client.get(f"/api/pairings/{scene.pairing.pk}/").status_code == 404
    assert (
        client.patch(f"/api/pairings/{scene.pairing.pk}/", {"version": 1}, format="json").status_code == 404
    )
    assert client.get(f"/api/secondments/{scene.secondment.pk}/").status_code == 404
    response = client.post(
        "/api/secondments/",
        {
            "pairing": scene.pairing.pk,
            "cadre": scene.cadre_b.pk,
            "host_unit": "x",
            "post": "y",
            "starts_on": "2026-09-01",
            "ends_on": "2026-12-31",
        },
        format="json",
    )
    assert response.status_code == 400 and "pairing" in response.json()


def test_the_supervisor_seconds_and_edits_with_counts(cast, api, scene):
    make_note(scene.secondment)
    client = api(cast.supervisor_a)
    response = client.post(
        "/api/secondments/",
        {
            "pairing": scene.pairing.pk,
            "cadre": scene.cadre.pk,
            "host_unit": "昆山市发改委",
            "post": "副主任",
            "kind": "shadow",
            "starts_on": "2026-09-01",
            "ends_on": "2026-12-31",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "shadow"
    listed = client.get("/api/secondments/", {"cadre": scene.cadre.pk}).json()["results"]
    counts = {row["id"]: row["note_count"] for row in listed}
    assert counts == {scene.secondment.pk: 1, response.json()["id"]: 0}
    spare = make_cadre("cadre_spare", cast.zone_a)
    patched = client.patch(
        f"/api/secondments/{scene.secondment.pk}/", {"cadre": spare.pk, "version": 1}, format="json"
    )
    assert patched.status_code == 400 and "不能更换挂职干部" in patched.json()["detail"]


# --- the cadre ---------------------------------------------------------------------------------------


def test_the_cadre_sees_only_its_own_secondment(api, scene):
    client = api(scene.cadre)
    assert _ids(client.get("/api/secondments/")) == {scene.secondment.pk}
    assert _ids(client.get("/api/pairings/")) == {scene.pairing.pk}
    assert client.get(f"/api/secondments/{scene.secondment2.pk}/").status_code == 404
    assert (
        client.patch(f"/api/pairings/{scene.pairing.pk}/", {"version": 1}, format="json").status_code == 403
    )
    assert (
        client.patch(f"/api/secondments/{scene.secondment.pk}/", {"version": 1}, format="json").status_code
        == 403
    )


def test_the_cadre_writes_notes_on_its_own_secondment_only(api, scene):
    client = api(scene.cadre)
    body = {"title": "一窗通办", "body": "一日办结。", "observed_on": "2026-04-02"}
    created = client.post("/api/learning-notes/", {**body, "secondment": scene.secondment.pk}, format="json")
    assert created.status_code == 201, created.json()
    note = created.json()

    other = client.post("/api/learning-notes/", {**body, "secondment": scene.secondment2.pk}, format="json")
    assert other.status_code == 400 and "secondment" in other.json()

    url = f"/api/learning-notes/{note['id']}/"
    patched = client.patch(url, {"title": "一窗通办（续）", "version": note["version"]}, format="json")
    assert patched.status_code == 200 and patched.json()["version"] == note["version"] + 1
    assert client.patch(url, {"title": "x", "version": note["version"]}, format="json").status_code == 409
    late = client.post(
        "/api/learning-notes/",
        {**body, "observed_on": "2026-10-01", "secondment": scene.secondment.pk},
        format="json",
    )
    assert late.status_code == 400 and "应在挂职期间" in late.json()["detail"]

    assert api(scene.cadre2).delete(url).status_code == 404
    assert client.delete(f"{url}?version=x").status_code == 400
    assert client.delete(f"{url}?version={note['version']}").status_code == 409
    assert client.delete(f"{url}?version={note['version'] + 1}").status_code == 204
    assert not LearningNote.objects.exists()


def test_supervisors_and_leaders_read_notes_and_activities_but_do_not_write_them(cast, api, scene):
    note, activity = make_note(scene.secondment), make_activity(scene.secondment)
    for who in (cast.supervisor_a, cast.leader_a):
        client = api(who)
        assert _ids(client.get("/api/learning-notes/", {"secondment": scene.secondment.pk})) == {note.pk}
        assert _ids(client.get("/api/liaison-activities/")) == {activity.pk}
        assert client.delete(f"/api/learning-notes/{note.pk}/").status_code == 403
        assert (
            client.patch(f"/api/liaison-activities/{activity.pk}/", {"version": 1}, format="json").status_code
            == 403
        )
    assert _ids(api(scene.cadre2).get("/api/learning-notes/")) == set()
    assert _ids(api(scene.supervisor_b).get("/api/liaison-activities/")) == set()


def test_activities_through_the_api(api, scene):
    client = api(scene.cadre)
    created = client.post(
        "/api/liaison-activities/",
        {
            "secondment": scene.secondment.pk,
            "title": "对接会",
            "held_on": "2026-05-06",
            "participants": "昆山商会",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    activity = created.json()
    patched = client.patch(
        f"/api/liaison-activities/{activity['id']}/",
        {"outcome": "签约一家", "version": activity["version"]},
        format="json",
    )
    assert patched.status_code == 200 and patched.json()["outcome"] == "签约一家"


# --- sourced leads -----------------------------------------------------------------------------------


def test_the_cadre_submits_and_the_promoter_takes(cast, api, scene):
    created = api(scene.cadre).post(
        "/api/sourced-leads/",
        {
            "secondment": scene.secondment.pk,
            "company_name": "示例储能科技有限公司",
            "summary": "拟投资。",
            "contact_name": "李总",
            "contact_phone": "13912345678",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    sourced = created.json()
    assert sourced["status"] == "submitted" and sourced["contact_phone"] == "13912345678"

    promoter = api(cast.promoter_a)
    assert _ids(promoter.get("/api/sourced-leads/", {"status": "submitted"})) == {sourced["id"]}
    taken = promoter.post(f"/api/sourced-leads/{sourced['id']}/take/", {"version": 1}, format="json")
    assert taken.status_code == 200, taken.json()
    lead = Lead.objects.get()
    assert (taken.json()["status"], taken.json()["lead"]) == ("taken", lead.pk)
    assert lead.source == LeadSource.SECONDED_CADRE and lead.owner == cast.promoter_a
    again = promoter.post(f"/api/sourced-leads/{sourced['id']}/take/", {"version": 2}, format="json")
    assert again.status_code == 409
    assert Lead.objects.count() == 1


def test_only_promoters_take_or_decline_and_a_decline_needs_a_reason(cast, api, scene):
    sourced = make_sourced_lead(scene.secondment)
    url = f"/api/sourced-leads/{sourced.pk}/"
    for who in (cast.leader_a, cast.supervisor_a, scene.cadre):
        assert api(who).post(f"{url}take/", {"version": 1}, format="json").status_code == 403
        assert (
            api(who).post(f"{url}decline/", {"reason": "x", "version": 1}, format="json").status_code == 403
        )
    promoter = api(cast.promoter_a)
    assert promoter.post(f"{url}decline/", {"reason": "", "version": 1}, format="json").status_code == 400
    assert promoter.post(f"{url}decline/", {"reason": " ", "version": 1}, format="json").status_code == 400
    assert SourcedLead.objects.get().status == SourcedLeadStatus.SUBMITTED
    declined = promoter.post(f"{url}decline/", {"reason": "不符合产业定位", "version": 1}, format="json")
    assert declined.status_code == 200 and declined.json()["decline_reason"] == "不符合产业定位"
    assert promoter.patch(url, {"industry": "x", "version": 2}, format="json").status_code == 403


def test_a_take_names_the_owner_among_the_zones_promoters(cast, api, scene):
    sourced = make_sourced_lead(scene.secondment)
    response = api(cast.promoter_a).post(
        f"/api/sourced-leads/{sourced.pk}/take/", {"owner": cast.leader_a.pk, "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert not Lead.objects.exists() and SourcedLead.objects.get().status == SourcedLeadStatus.SUBMITTED


def test_the_contacts_phone_is_masked_for_leaders(cast, api, scene):
    sourced = make_sourced_lead(scene.secondment, contact_phone="13912345678")
    assert (
        api(cast.leader_a).get(f"/api/sourced-leads/{sourced.pk}/").json()["contact_phone"] == "139****5678"
    )
    assert (
        api(cast.promoter_a).get(f"/api/sourced-leads/{sourced.pk}/").json()["contact_phone"] == "13912345678"
    )
    assert (
        api(cast.supervisor_a).get("/api/sourced-leads/").json()["results"][0]["contact_phone"]
        == "13912345678"
    )


def test_another_cadre_does_not_see_the_sourced_lead(api, scene):
    sourced = make_sourced_lead(scene.secondment)
    client = api(scene.cadre2)
    assert client.get(f"/api/sourced-leads/{sourced.pk}/").status_code == 404
    assert client.patch(f"/api/sourced-leads/{sourced.pk}/", {"version": 1}, format="json").status_code == 404


def test_roles_outside_the_programme_get_403(cast, api):
    for who in (cast.steward_a, cast.dispatcher_a, cast.ent_user_a1, cast.sysadmin):
        client = api(who)
        for path in ("/api/pairings/", "/api/secondments/", "/api/learning-notes/", "/api/sourced-leads/"):
            assert client.get(path).status_code == 403, (who, path)
    assert api(cast.promoter_a).get("/api/pairings/").status_code == 403


def test_rows_show_the_version_the_service_keeps(api, scene):
    note = make_note(scene.secondment)
    shown = api(scene.cadre).get(f"/api/learning-notes/{note.pk}/").json()
    assert shown["version"] == LearningNote.objects.get(pk=note.pk).version == 1
    assert Pairing.objects.count() == 1 and Secondment.objects.count() == 2


@pytest.mark.parametrize("value", ["-1.7976931348623157e+308", "1.5", "0", str(2**63)])
def test_an_id_filter_refuses_what_is_no_id(api, scene, value):
    response = api(scene.cadre).get("/api/liaison-activities/", {"secondment": value})
    assert response.status_code == 400 and "secondment" in response.json()
