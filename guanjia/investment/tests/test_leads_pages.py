"""Lead pages: the list with its filters and counts, a new lead (prefilled from the gap list), a lead with
its actions; who may read, who may write, and whose phones are masked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from guanjia.core.models import AuditRecord
from guanjia.investment import leads
from guanjia.investment.access import today
from guanjia.investment.models import Lead, LeadContact, LeadLog, LeadSource, LeadStatus, LeadTransition
from guanjia.investment.tests.helpers import make_chain, make_lead, make_promoter, make_target, node

S = LeadStatus


def _detail(lead: Lead) -> str:
    return reverse("investment:lead", args=[lead.pk])


# --- who may use the pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["steward_a", "ent_user_a1", "outsider", "dispatcher_a", "sysadmin", "auditor"]
)
def test_roles_without_investment_get_403_on_every_page(cast, login, lead, who):
    client = login(getattr(cast, who))
    for url in (reverse("investment:leads"), reverse("investment:lead-new"), _detail(lead)):
        assert client.get(url).status_code == 403, url


def test_the_leader_reads_but_every_write_is_403(cast, login, lead):
    client = login(cast.leader_a)
    assert client.get(reverse("investment:leads")).status_code == 200
    page = client.get(_detail(lead))
    assert page.status_code == 200
    assert 'data-testid="lead-actions"' not in page.content.decode()
    writes = [
        ("investment:lead-new", (), {}),
        ("investment:lead-edit", (lead.pk,), {}),
        ("investment:lead-move", (lead.pk,), {"to": S.CONTACTING, "version": lead.version}),
        ("investment:lead-contact-add", (lead.pk,), {"contact-name": "王经理"}),
        (
            "investment:lead-log-add",
            (lead.pk,),
            {"log-happened_on": today(), "log-mode": "phone", "log-summary": "x"},
        ),
    ]
    for name, args, body in writes:
        assert client.post(reverse(name, args=args), body).status_code == 403, name
    assert Lead.objects.get(pk=lead.pk).status == S.NEW
    assert LeadContact.objects.count() == 1


def test_another_zones_promoter_sees_an_empty_list_and_a_404(login, lead, promoter_b):
    client = login(promoter_b)
    listing = client.get(reverse("investment:leads"))
    assert listing.status_code == 200
    assert list(listing.context["page"]) == []
    assert client.get(_detail(lead)).status_code == 404
    assert client.get(reverse("investment:lead-edit", args=[lead.pk])).status_code == 404
    moved = client.post(reverse("investment:lead-move", args=[lead.pk]), {"to": S.CONTACTING})
    assert moved.status_code == 404
    assert Lead.objects.get(pk=lead.pk).status == S.NEW


# --- the list ----------------------------------------------------------------------------------------


def test_the_list_counts_each_state_and_filters(cast, login, chain, target, lead):
    other_target = make_target(cast.zone_a, "示例储能集团", node(chain, "储能系统"))
    colleague = make_promoter("promoter_a2", cast.zone_a)
    theirs = make_lead(other_target, colleague, source=LeadSource.FUND, node=node(chain, "储能系统"))
    Lead.objects.filter(pk=theirs.pk).update(status=S.CONTACTING)
    make_lead(target, cast.promoter_a, status=S.ABANDONED, abandon_reason="无意向")
    client = login(cast.promoter_a)

    page = client.get(reverse("investment:leads"))
    counts = {tab["value"]: tab["count"] for tab in page.context["tabs"]}
    assert counts == {S.NEW: 1, S.CONTACTING: 1, S.NEGOTIATING: 0, S.CONVERTED: 0, S.ABANDONED: 1}
    assert len(page.context["page"]) == 3

    def listed(**query) -> set[int]:
        return {lead.pk for lead in client.get(reverse("investment:leads"), query).context["page"]}

    assert listed(status=S.CONTACTING) == {theirs.pk}
    assert listed(source=LeadSource.FUND) == {theirs.pk}
    assert listed(owner="mine") == {lead.pk, Lead.objects.get(status=S.ABANDONED).pk}
    assert listed(owner=str(colleague.pk)) == {theirs.pk}
    assert listed(node=str(node(chain, "储能系统").pk)) == {theirs.pk}
    assert listed(chain=str(chain.pk)) == {lead.pk, theirs.pk}  # the abandoned one names no node
    assert listed(search="储能") == {theirs.pk}
    assert listed(search="电芯产线") == {lead.pk}
    # The counts follow the other filters, not the state.
    mine = client.get(reverse("investment:leads"), {"owner": "mine", "status": S.NEW})
    assert {tab["value"]: tab["count"] for tab in mine.context["tabs"]}[S.ABANDONED] == 1


def test_the_list_costs_the_same_queries_for_many_leads(cast, login, target, django_assert_max_num_queries):
    client = login(cast.promoter_a)
    make_lead(target, cast.promoter_a)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("investment:leads"))
    for _ in range(15):
        make_lead(target, cast.promoter_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("investment:leads")).status_code == 200


# --- a new lead --------------------------------------------------------------------------------------


def test_a_promoter_records_a_lead_and_lands_on_its_page(cast, login, chain, target):
    client = login(cast.promoter_a)
    form = client.get(reverse("investment:lead-new"))
    assert 'data-testid="lead-save"' in form.content.decode()
    response = client.post(
        reverse("investment:lead-new"),
        {
            "target": target.pk,
            "node": "",
            "source": LeadSource.ASSOCIATION,
            "source_detail": "省电池行业协会",
            "owner": cast.promoter_a.pk,
            "summary": "",
            "contact_name": "李总",
            "contact_phone": "13912345678",
        },
    )
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == _detail(lead)
    assert lead.node == node(chain, "电芯")  # the one link the target covers
    assert list(lead.contacts.values_list("name", flat=True)) == ["李总"]


def test_a_bad_new_lead_shows_the_field_and_writes_nothing(cast, login, target):
    client = login(cast.promoter_a)
    response = client.post(
        reverse("investment:lead-new"),
        {"target": target.pk, "source": "", "owner": cast.promoter_a.pk, "contact_phone": "13912345678"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "source" in errors and "contact_name" in errors
    assert not Lead.objects.exists()


def test_the_gap_list_prefills_target_and_node(cast, login, chain, target):
    client = login(cast.promoter_a)
    link = node(chain, "电芯")
    form = client.get(reverse("investment:lead-new"), {"target": target.pk, "node": link.pk}).context["form"]
    assert (form.initial["target"], form.initial["node"]) == (target.pk, link.pk)


def test_with_only_a_node_the_targets_are_those_covering_it(cast, login, chain, target):
    make_target(cast.zone_a, "示例材料有限公司", node(chain, "正极材料"))
    client = login(cast.promoter_a)
    page = client.get(reverse("investment:lead-new"), {"node": node(chain, "电芯").pk})
    assert list(page.context["form"].fields["target"].queryset) == [target]
    assert not page.context["no_targets"]

    empty = client.get(reverse("investment:lead-new"), {"node": node(chain, "储能系统").pk})
    assert empty.context["no_targets"]
    html = empty.content.decode()
    assert 'data-testid="no-targets"' in html and f'href="{reverse("investment:targets")}"' in html


def test_a_node_of_another_zone_in_the_query_is_ignored(cast, login, target, promoter_b):
    chain_b = make_chain(cast.zone_b, promoter_b, name="生物医药")
    page = login(cast.promoter_a).get(reverse("investment:lead-new"), {"node": node(chain_b, "电芯").pk})
    assert "node" not in page.context["form"].initial
    assert list(page.context["form"].fields["target"].queryset) == [target]


def test_a_target_of_another_zone_cannot_be_chosen(cast, login, promoter_b):
    target_b = make_target(cast.zone_b, "示例医药股份有限公司")
    response = login(cast.promoter_a).post(
        reverse("investment:lead-new"),
        {"target": target_b.pk, "source": LeadSource.EXPO, "owner": cast.promoter_a.pk},
    )
    assert "target" in response.context["form"].errors
    assert not Lead.objects.exists()


# --- a lead ------------------------------------------------------------------------------------------


def test_the_lead_page_shows_contacts_logs_and_history(cast, login, lead):
    leads.add_log(
        lead, happened_on=today() - timedelta(days=3), mode="phone", summary="首次电话", by=cast.promoter_a
    )
    leads.add_log(lead, happened_on=today(), mode="visit", summary="上门拜访", by=cast.promoter_a)
    leads.move_lead(lead, to=S.CONTACTING, by=cast.promoter_a)
    page = login(cast.promoter_a).get(_detail(lead))
    html = page.content.decode()
    assert "13912345678" in html
    assert html.index("上门拜访") < html.index("首次电话")  # newest first
    assert [move.to_status for move in page.context["transitions"]] == [S.CONTACTING]
    assert 'data-testid="move-negotiating"' in html and 'data-testid="move-abandoned"' in html
    assert 'data-testid="move-contacting"' not in html


def test_the_leader_sees_the_contacts_phone_masked(cast, login, lead):
    html = login(cast.leader_a).get(_detail(lead)).content.decode()
    assert "139****5678" in html
    assert "13912345678" not in html


def test_a_move_from_the_page_and_a_refused_one(cast, login, lead):
    client = login(cast.promoter_a)
    moved = client.post(reverse("investment:lead-move", args=[lead.pk]), {"to": S.CONTACTING, "version": 1})
    assert moved.status_code == 302
    assert Lead.objects.get(pk=lead.pk).status == S.CONTACTING

    refused = client.post(
        reverse("investment:lead-move", args=[lead.pk]), {"to": S.CONVERTED, "version": 2}, follow=True
    )
    assert "创建项目" in refused.content.decode()
    stale = client.post(
        reverse("investment:lead-move", args=[lead.pk]), {"to": S.NEGOTIATING, "version": 1}, follow=True
    )
    assert "刷新" in stale.content.decode()
    no_reason = client.post(
        reverse("investment:lead-move", args=[lead.pk]),
        {"to": S.ABANDONED, "reason": "", "version": 2},
        follow=True,
    )
    assert "放弃原因：请填写" in no_reason.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == S.CONTACTING
    assert LeadTransition.objects.filter(lead=lead).count() == 1


def test_abandon_and_reactivate_from_the_page(cast, login, lead):
    client = login(cast.promoter_a)
    client.post(
        reverse("investment:lead-move", args=[lead.pk]),
        {"to": S.ABANDONED, "reason": "对方转投他市", "version": 1},
    )
    page = client.get(_detail(lead)).content.decode()
    assert "对方转投他市" in page and 'data-testid="move-contacting"' in page
    assert 'data-testid="convert"' not in page
    client.post(reverse("investment:lead-move", args=[lead.pk]), {"to": S.CONTACTING, "version": 2})
    assert Lead.objects.get(pk=lead.pk).status == S.CONTACTING
    assert AuditRecord.objects.filter(action="investment.lead_reactivate").count() == 1


def test_an_open_lead_offers_conversion_to_a_project(cast, login, lead):
    new_project = reverse("investment:project-new")
    html = login(cast.promoter_a).get(_detail(lead)).content.decode()
    assert f'href="{new_project}?lead={lead.pk}"' in html
    assert 'data-testid="convert"' in html


def test_a_converted_lead_links_to_its_project_and_offers_no_moves(cast, login, lead):
    from guanjia.investment.tests.helpers import make_project

    leads.mark_converted(lead, by=cast.promoter_a)
    project = make_project(cast.zone_a, cast.promoter_a, lead=lead, name="示例电芯项目")
    html = login(cast.promoter_a).get(_detail(lead)).content.decode()
    assert "示例电芯项目" in html
    assert 'data-testid="convert"' not in html and 'data-testid="move-' not in html
    assert reverse("investment:project", args=[project.pk]) in html


def test_contacts_and_logs_from_the_page(cast, login, lead):
    client = login(cast.promoter_a)
    added = client.post(
        reverse("investment:lead-contact-add", args=[lead.pk]),
        {"contact-name": "王经理", "contact-phone": "0512-66881234"},
    )
    assert added.status_code == 302
    contact = LeadContact.objects.get(name="王经理")
    removed = client.post(reverse("investment:lead-contact-remove", args=[lead.pk, contact.pk]))
    assert removed.status_code == 302 and not LeadContact.objects.filter(pk=contact.pk).exists()

    logged = client.post(
        reverse("investment:lead-log-add", args=[lead.pk]),
        {"log-happened_on": today().isoformat(), "log-mode": "meeting", "log-summary": "来访洽谈"},
    )
    assert logged.status_code == 302
    future = client.post(
        reverse("investment:lead-log-add", args=[lead.pk]),
        {
            "log-happened_on": (today() + timedelta(days=1)).isoformat(),
            "log-mode": "phone",
            "log-summary": "x",
        },
    )
    assert future.status_code == 200 and "happened_on" in future.context["log_form"].errors
    assert list(LeadLog.objects.values_list("summary", flat=True)) == ["来访洽谈"]


def test_a_contact_of_another_lead_is_not_found(cast, login, target, lead):
    other = make_lead(target, cast.promoter_a)
    theirs = LeadContact.objects.create(lead=other, name="赵总")
    response = login(cast.promoter_a).post(
        reverse("investment:lead-contact-remove", args=[lead.pk, theirs.pk])
    )
    assert response.status_code == 404
    assert LeadContact.objects.filter(pk=theirs.pk).exists()


def test_edit_and_reassign_from_the_pages(cast, login, chain, lead):
    colleague = make_promoter("promoter_a2", cast.zone_a)
    client = login(cast.promoter_a)
    form = client.get(reverse("investment:lead-edit", args=[lead.pk])).context["form"]
    assert "owner" not in form.fields and form.initial["version"] == 1
    edited = client.post(
        reverse("investment:lead-edit", args=[lead.pk]),
        {
            "target": lead.target_id,
            "node": node(chain, "电芯").pk,
            "source": LeadSource.REFERRAL,
            "summary": "以商招商",
            "version": 1,
        },
    )
    assert edited.status_code == 302
    stale = client.post(
        reverse("investment:lead-edit", args=[lead.pk]),
        {"target": lead.target_id, "source": LeadSource.EXPO, "version": 1},
    )
    assert stale.status_code == 200 and "刷新" in str(stale.context["form"].non_field_errors())
    reassigned = client.post(
        reverse("investment:lead-reassign", args=[lead.pk]), {"owner": colleague.pk, "version": 2}
    )
    assert reassigned.status_code == 302
    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.source, stored.owner) == (LeadSource.REFERRAL, colleague)


@pytest.mark.parametrize(
    "name",
    [
        "investment:lead-move",
        "investment:lead-contact-add",
        "investment:lead-log-add",
        "investment:lead-reassign",
    ],
)
def test_post_only_pages_refuse_get(cast, login, lead, name):
    assert login(cast.promoter_a).get(reverse(name, args=[lead.pk])).status_code == 405
