"""The programme's pages: the supervisor keeps pairings and secondments, the leader reads them, another
zone's supervisor gets 404, the cadre sees only its own secondment and writes its notes, activities and
sourced leads there, and the promoter takes or declines the sourced leads."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from guanjia.exchange.models import (
    LearningNote,
    LiaisonActivity,
    Pairing,
    Secondment,
    SourcedLead,
    SourcedLeadStatus,
)
from guanjia.exchange.tests.helpers import build_scene, make_activity, make_note, make_sourced_lead
from guanjia.investment.models import Lead, LeadSource


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def scene(cast):
    return build_scene(cast)


def _errors(response) -> str:
    return response.content.decode()


# --- the supervisor keeps pairings and secondments ---------------------------------------------------


def test_the_supervisor_creates_and_edits_a_pairing(cast, login):
    client = login(cast.supervisor_a)
    form = {
        "local_unit": cast.market_a.pk,
        "partner_unit": "嘉兴经开区",
        "partner_city": "嘉兴市",
        "partner_province": "浙江省",
        "started_on": "2026-01-05",
        "focus": "营商环境",
    }
    response = client.post(reverse("exchange:pairing-new"), form)

    pairing = Pairing.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "exchange:pairing", args=[pairing.pk]
    )
    assert (pairing.zone, pairing.local_unit) == (cast.zone_a, cast.market_a)

    page = client.get(reverse("exchange:pairing-edit", args=[pairing.pk]))
    assert page.status_code == 200 and "嘉兴经开区" in page.content.decode()
    response = client.post(
        reverse("exchange:pairing-edit", args=[pairing.pk]), {**form, "focus": "干部交流", "version": 1}
    )
    assert response.status_code == 302
    assert Pairing.objects.get().focus == "干部交流"

    stale = client.post(reverse("exchange:pairing-edit", args=[pairing.pk]), {**form, "version": 1})
    assert stale.status_code == 200 and "刚被他人修改" in stale.content.decode()


def test_the_pairing_form_shows_errors_beside_the_fields(cast, login):
    client = login(cast.supervisor_a)
    response = client.post(
        reverse("exchange:pairing-new"),
        {"local_unit": cast.centre_b.pk, "partner_unit": "", "started_on": "2026-13-01"},
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "本地单位：" in text and "结对单位：" in text and "结对日期：" in text
    assert not Pairing.objects.exists()


def test_the_supervisor_seconds_a_cadre_from_the_pairing(cast, login, scene):
    client = login(cast.supervisor_a)
    page = client.get(reverse("exchange:secondment-new"), {"pairing": scene.pairing.pk})
    text = page.content.decode()
    assert page.status_code == 200
    assert "cadre_a2" in text and "cadre_b" not in text  # zone A's cadres only

    response = client.post(
        reverse("exchange:secondment-new"),
        {
            "pairing": scene.pairing.pk,
            "cadre": scene.cadre.pk,
            "host_unit": "昆山市发改委",
            "post": "副主任",
            "kind": "shadow",
            "starts_on": "2026-09-01",
            "ends_on": "2026-12-31",
        },
    )
    created = Secondment.objects.get(host_unit="昆山市发改委")
    assert response.status_code == 302 and response["Location"] == reverse(
        "exchange:secondment", args=[created.pk]
    )

    response = client.post(
        reverse("exchange:secondment-edit", args=[created.pk]),
        {
            "cadre": scene.cadre.pk,
            "host_unit": "昆山市发改委",
            "post": "主任助理",
            "kind": "shadow",
            "starts_on": "2026-09-01",
            "ends_on": "2026-12-31",
            "version": 1,
        },
    )
    assert response.status_code == 302
    assert Secondment.objects.get(pk=created.pk).post == "主任助理"


def test_an_overlapping_secondment_is_refused_with_the_reason(cast, login, scene):
    response = login(cast.supervisor_a).post(
        reverse("exchange:secondment-new"),
        {
            "pairing": scene.pairing.pk,
            "cadre": scene.cadre.pk,
            "host_unit": "昆山市发改委",
            "post": "副主任",
            "kind": "posted",
            "starts_on": "2026-08-01",
            "ends_on": "2026-12-31",
        },
    )
    assert response.status_code == 200 and "时间不能重叠" in response.content.decode()


def test_the_index_shows_pairings_with_their_secondments_and_counts(cast, login, scene):
    make_note(scene.secondment)
    make_note(scene.secondment, title="二")
    make_activity(scene.secondment)
    make_sourced_lead(scene.secondment)

    for who in (cast.supervisor_a, cast.leader_a, cast.leader_city):
        response = login(who).get(reverse("exchange:index"))
        text = response.content.decode()
        assert response.status_code == 200
        assert "昆山高新区" in text and "cadre_a" in text
        assert 'data-testid="total-notes">2<' in text
        assert 'data-testid="total-activities">1<' in text


def test_the_leader_reads_but_may_not_write(cast, login, scene):
    client = login(cast.leader_a)
    pairing = client.get(reverse("exchange:pairing", args=[scene.pairing.pk]))
    assert pairing.status_code == 200
    assert (
        "cadre_a2" in pairing.content.decode()
        and 'data-testid="pairing-edit"' not in pairing.content.decode()
    )
    page = client.get(reverse("exchange:secondment", args=[scene.secondment.pk]))
    assert page.status_code == 200 and 'data-testid="secondment-edit"' not in page.content.decode()
    assert client.get(reverse("exchange:pairing-new")).status_code == 403
    assert client.get(reverse("exchange:pairing-edit", args=[scene.pairing.pk])).status_code == 403
    assert client.post(reverse("exchange:secondment-edit", args=[scene.secondment.pk]), {}).status_code == 403
    assert client.get(reverse("exchange:note-new", args=[scene.secondment.pk])).status_code == 403


def test_another_zones_supervisor_gets_404_on_zone_as_programme(login, scene):
    client = login(scene.supervisor_b)
    for name, pk in (
        ("exchange:pairing", scene.pairing.pk),
        ("exchange:pairing-edit", scene.pairing.pk),
        ("exchange:secondment", scene.secondment.pk),
        ("exchange:secondment-edit", scene.secondment.pk),
    ):
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    index = client.get(reverse("exchange:index"))
    assert index.status_code == 200 and "昆山高新区" not in index.content.decode()
    # Zone A's pairing is not among its choices either.
    response = client.post(reverse("exchange:secondment-new"), {"pairing": scene.pairing.pk})
    assert response.status_code == 200 and "pairing" in response.context["form"].errors


# --- the cadre ---------------------------------------------------------------------------------------


def test_the_cadre_is_sent_to_its_own_secondments_and_sees_only_them(login, scene):
    client = login(scene.cadre)
    response = client.get(reverse("exchange:index"))
    assert response.status_code == 302 and response["Location"] == reverse("exchange:mine")

    mine = client.get(reverse("exchange:mine"))
    text = mine.content.decode()
    assert reverse("exchange:secondment", args=[scene.secondment.pk]) in text
    assert reverse("exchange:secondment", args=[scene.secondment2.pk]) not in text

    assert client.get(reverse("exchange:secondment", args=[scene.secondment.pk])).status_code == 200
    assert client.get(reverse("exchange:secondment", args=[scene.secondment2.pk])).status_code == 404
    assert client.get(reverse("exchange:note-new", args=[scene.secondment2.pk])).status_code == 404


def test_the_cadre_reads_its_pairing_but_may_not_edit_it(login, scene):
    client = login(scene.cadre)
    pairing = client.get(reverse("exchange:pairing", args=[scene.pairing.pk]))
    assert pairing.status_code == 200
    assert "cadre_a2" not in pairing.content.decode()  # another cadre's secondment on the same pairing
    assert client.get(reverse("exchange:pairing-edit", args=[scene.pairing.pk])).status_code == 403
    assert client.post(reverse("exchange:pairing-edit", args=[scene.pairing.pk]), {}).status_code == 403
    assert client.get(reverse("exchange:secondment-edit", args=[scene.secondment.pk])).status_code == 403


def test_the_cadre_writes_edits_and_deletes_notes_on_its_secondment(login, scene):
    client = login(scene.cadre)
    page = client.get(reverse("exchange:secondment", args=[scene.secondment.pk]))
    text = page.content.decode()
    assert f"{reverse('exchange:practice-new')}?secondment={scene.secondment.pk}" in text
    assert reverse("exchange:note-new", args=[scene.secondment.pk]) in text

    response = client.post(
        reverse("exchange:note-new", args=[scene.secondment.pk]),
        {"title": "一窗通办", "body": "一日办结。", "observed_on": "2026-04-02"},
    )
    assert response.status_code == 302
    note = LearningNote.objects.get()

    response = client.post(
        reverse("exchange:note-edit", args=[note.pk]),
        {
            "title": "一窗通办（续）",
            "body": "一日办结。",
            "observed_on": "2026-04-02",
            "version": note.version,
        },
    )
    assert response.status_code == 302
    assert LearningNote.objects.get().title == "一窗通办（续）"

    assert client.get(reverse("exchange:note-delete", args=[note.pk])).status_code == 405
    response = client.post(reverse("exchange:note-delete", args=[note.pk]), {"version": "stale"})
    assert response.status_code == 302 and LearningNote.objects.exists()  # a stale page deletes nothing
    client.post(
        reverse("exchange:note-delete", args=[note.pk]),
        {"version": LearningNote.objects.get().version},
    )
    assert not LearningNote.objects.exists()


def test_a_note_out_of_the_period_is_refused_beside_the_form(login, scene):
    response = login(scene.cadre).post(
        reverse("exchange:note-new", args=[scene.secondment.pk]),
        {"title": "见闻", "body": "内容", "observed_on": "2026-10-01"},
    )
    assert response.status_code == 200 and "应在挂职期间" in response.content.decode()
    assert not LearningNote.objects.exists()


def test_another_cadre_may_not_touch_the_notes(login, scene):
    note, activity = make_note(scene.secondment), make_activity(scene.secondment)
    client = login(scene.cadre2)
    assert client.get(reverse("exchange:note-edit", args=[note.pk])).status_code == 404
    assert client.post(reverse("exchange:note-delete", args=[note.pk])).status_code == 404
    assert client.post(reverse("exchange:activity-delete", args=[activity.pk])).status_code == 404
    assert LearningNote.objects.exists() and LiaisonActivity.objects.exists()


def test_the_cadre_records_activities_and_sourced_leads(login, scene):
    client = login(scene.cadre)
    response = client.post(
        reverse("exchange:activity-new", args=[scene.secondment.pk]),
        {"title": "新能源对接会", "held_on": "2026-05-06", "place": "昆山"},
    )
    assert response.status_code == 302 and LiaisonActivity.objects.get().place == "昆山"

    response = client.post(
        reverse("exchange:sourced-lead-new", args=[scene.secondment.pk]),
        {
            "company_name": "示例储能科技有限公司",
            "summary": "拟投资。",
            "contact_name": "李总",
            "contact_phone": "13912345678",
        },
    )
    assert response.status_code == 302
    sourced = SourcedLead.objects.get()
    response = client.post(
        reverse("exchange:sourced-lead-edit", args=[sourced.pk]),
        {"company_name": "示例储能科技有限公司", "summary": "拟投资 10 亿元。", "version": 1},
    )
    assert response.status_code == 302 and SourcedLead.objects.get().summary == "拟投资 10 亿元。"


# --- sourced leads: the promoter ---------------------------------------------------------------------


def test_the_promoter_sees_waiting_leads_first(cast, login, scene):
    waiting = make_sourced_lead(scene.secondment, company_name="待接收公司")
    declined = make_sourced_lead(
        scene.secondment,
        company_name="已退回公司",
        status=SourcedLeadStatus.DECLINED,
        decline_reason="不符合",
    )
    SourcedLead.objects.filter(pk=declined.pk).update(created_at=waiting.created_at.replace(year=2027))

    response = login(cast.promoter_a).get(reverse("exchange:sourced-leads"))
    text = response.content.decode()
    assert response.status_code == 200
    assert text.index("待接收公司") < text.index("已退回公司")
    assert login(cast.promoter_a).get(reverse("exchange:index"))["Location"] == reverse(
        "exchange:sourced-leads"
    )


def test_the_promoter_takes_a_sourced_lead_into_an_investment_lead(cast, login, scene):
    sourced = make_sourced_lead(scene.secondment)
    client = login(cast.promoter_a)
    page = client.get(reverse("exchange:sourced-lead", args=[sourced.pk]))
    assert 'data-testid="take"' in page.content.decode()

    response = client.post(
        reverse("exchange:sourced-lead-take", args=[sourced.pk]),
        {"take-owner": cast.promoter_a.pk, "take-version": 1},
    )

    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("investment:lead", args=[lead.pk])
    assert lead.source == LeadSource.SECONDED_CADRE
    assert SourcedLead.objects.get().lead == lead
    page = client.get(reverse("exchange:sourced-lead", args=[sourced.pk]))
    assert reverse("investment:lead", args=[lead.pk]) in page.content.decode()
    # The supervisor reads the sourced lead but not the investment lead: no link it could not open.
    page = login(cast.supervisor_a).get(reverse("exchange:sourced-lead", args=[sourced.pk]))
    assert reverse("investment:lead", args=[lead.pk]) not in page.content.decode()


def test_a_decline_without_a_reason_is_refused_beside_the_field(cast, login, scene):
    sourced = make_sourced_lead(scene.secondment)
    client = login(cast.promoter_a)
    response = client.post(
        reverse("exchange:sourced-lead-decline", args=[sourced.pk]), {"decline-reason": ""}
    )
    assert response.status_code == 200 and "不予跟进原因：" in response.content.decode()
    assert SourcedLead.objects.get().status == SourcedLeadStatus.SUBMITTED

    response = client.post(
        reverse("exchange:sourced-lead-decline", args=[sourced.pk]), {"decline-reason": "不符合产业定位"}
    )
    assert response.status_code == 302
    assert SourcedLead.objects.get().status == SourcedLeadStatus.DECLINED


def test_only_promoters_take_and_decline(cast, login, scene):
    sourced = make_sourced_lead(scene.secondment)
    for who in (cast.leader_a, cast.supervisor_a, scene.cadre):
        client = login(who)
        page = client.get(reverse("exchange:sourced-lead", args=[sourced.pk]))
        assert page.status_code == 200 and 'data-testid="take"' not in page.content.decode()
        assert client.post(reverse("exchange:sourced-lead-take", args=[sourced.pk]), {}).status_code == 403
        assert client.post(reverse("exchange:sourced-lead-decline", args=[sourced.pk]), {}).status_code == 403
    assert SourcedLead.objects.get().status == SourcedLeadStatus.SUBMITTED


def test_the_contacts_phone_is_masked_for_the_leader(cast, login, scene):
    sourced = make_sourced_lead(scene.secondment, contact_phone="13912345678")
    url = reverse("exchange:sourced-lead", args=[sourced.pk])

    leader = login(cast.leader_a).get(url).content.decode()
    assert "139****5678" in leader and "13912345678" not in leader
    listed = login(cast.leader_a).get(reverse("exchange:sourced-leads")).content.decode()
    assert "13912345678" not in listed
    assert "13912345678" in login(cast.promoter_a).get(url).content.decode()
    assert "13912345678" in login(scene.cadre).get(url).content.decode()


def test_others_may_not_open_the_programme(cast, login):
    for who in (cast.steward_a, cast.dispatcher_a, cast.ent_user_a1, cast.handler_a, cast.sysadmin):
        client = login(who)
        assert client.get(reverse("exchange:index")).status_code == 403
        assert client.get(reverse("exchange:sourced-leads")).status_code == 403
