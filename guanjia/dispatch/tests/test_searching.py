"""Full-text search over appeals, answers and the knowledge base (issue 10, item 4): real Chinese
texts, words in any order, highlighting, and every kind cut to the asking user's scope."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.management import call_command

from guanjia.appeals import lifecycle
from guanjia.appeals import services as appeal_services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal, Channel, Outcome
from guanjia.core import search
from guanjia.core.models import OrgUnit, SearchEntry
from guanjia.core.roles import Role
from guanjia.dispatch import searching
from guanjia.knowledge import entries
from guanjia.testing import make_user

TAX = (
    "增值税留抵退税审核进度咨询",
    "我司上月提交了增值税留抵退税申请，审核一直没有结果，请帮助了解办理进度。",
)
POWER = ("兴业大道片区频繁停电", "兴业大道东段本周已经停电三次，生产线被迫停工，请协调供电公司查明原因。")
ROAD = (
    "纬三路路面塌陷影响货车通行",
    "园区纬三路我司厂门口路段路面塌陷坑洼，大货车进出困难，请尽快维修道路。",
)


@pytest.fixture
def world(cast):
    """Zone A's 税务局 answers 税费; an appeal of ent_a1 (tax, answered), one of ent_a2 (power,
    dispatched to 市场监管局), one of zone B's ent_b1 (road); a published knowledge entry of zone A."""
    categories = ensure_default_categories()
    tax_a = OrgUnit.objects.create(
        name="高新区税务局", code="s-zone-a-tax", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    appeal_services.set_route(categories["tax"], cast.zone_a, tax_a, by=None)
    appeal_services.set_route(categories["land"], cast.zone_a, cast.market_a, by=None)
    tax_handler = make_user("s_tax_handler", tax_a, Role.HANDLER)
    dispatcher_b = make_user("s_dispatcher_b", cast.centre_b, Role.DISPATCHER)
    tax = _submit(cast.ent_a1, TAX, cast.ent_user_a1, categories["tax"])
    lifecycle.dispatch_appeal(tax, by=cast.dispatcher_a)
    lifecycle.sign_appeal(tax, by=tax_handler)
    lifecycle.answer_appeal(
        tax,
        answer="经核实，贵司留抵退税申请材料齐全，审核已于本周完成，退税款将在五个工作日内到账。",
        outcome=Outcome.SOLVED,
        by=tax_handler,
    )
    power = _submit(cast.ent_a2, POWER, cast.steward_a2, categories["land"])
    lifecycle.dispatch_appeal(power, by=cast.dispatcher_a)
    road = _submit(cast.ent_b1, ROAD, cast.steward_b, None)
    entry = entries.create_entry(
        by=cast.handler_a,
        question="停电了找哪个部门？",
        answer="园区突发停电可拨打供电服务热线，或在平台提交诉求。",
    )
    entries.publish(entry, by=cast.handler_a, version=entry.version)
    return SimpleNamespace(
        cast=cast,
        tax=tax,
        power=power,
        road=road,
        entry=entry,
        tax_handler=tax_handler,
        dispatcher_b=dispatcher_b,
    )


def _submit(enterprise, text, by, category) -> Appeal:
    title, body = text
    channel = Channel.STEWARD if by.has_role(Role.STEWARD) else Channel.PORTAL
    return lifecycle.submit_appeal(
        enterprise, title=title, body=body, channel=channel, by=by, category=category
    )


def _ids(found, kind):
    return [item.object_id for item in found if item.kind == kind]


def test_appeals_and_answers_are_indexed_as_the_lifecycle_goes(world) -> None:
    indexed = set(SearchEntry.objects.values_list("kind", "object_id"))
    answer = world.tax.assignments.get(is_lead=True)
    assert {(searching.APPEAL_KIND, world.tax.pk), (searching.APPEAL_KIND, world.road.pk)} <= indexed
    assert (searching.ANSWER_KIND, answer.pk) in indexed
    # The power appeal has no answer yet: nothing of it is indexed as an answer.
    assert not SearchEntry.objects.filter(kind=searching.ANSWER_KIND).exclude(object_id=answer.pk).exists()


@pytest.mark.parametrize("query", ["留抵退税 审核", "审核 留抵退税", "退税留抵的审核"])
def test_words_in_any_order_find_the_appeal(world, query) -> None:
    found = searching.find(world.cast.dispatcher_a, query, kind=searching.APPEAL)
    assert _ids(found, searching.APPEAL)[:1] == [world.tax.pk]


@pytest.mark.parametrize("query", ["停电 兴业大道", "兴业大道 停电"])
def test_a_street_and_a_problem_in_any_order(world, query) -> None:
    found = searching.find(world.cast.dispatcher_a, query, kind=searching.APPEAL)
    assert _ids(found, searching.APPEAL) == [world.power.pk]


def test_answers_are_found_by_their_own_words_and_lead_to_the_appeal(world) -> None:
    found = searching.find(world.cast.ent_user_a1, "退税款 到账", kind=searching.ANSWER)
    assert len(found) == 1
    assert found[0].url == f"/appeals/{world.tax.pk}/#assignments"
    assert "<mark>退税款</mark>" in found[0].snippet_html


def test_the_query_words_are_highlighted(world) -> None:
    (hit,) = searching.find(world.cast.dispatcher_a, "停电 兴业大道", kind=searching.APPEAL)
    assert "<mark>兴业</mark><mark>大道</mark>" in hit.title_html and "<mark>停电</mark>" in hit.title_html
    assert "<mark>停电</mark>" in hit.snippet_html
    assert hit.url == f"/appeals/{world.power.pk}/"
    assert hit.status_label == "已交办"


def test_all_kinds_merged(world) -> None:
    found = searching.find(world.cast.dispatcher_a, "停电")
    kinds = {item.kind for item in found}
    assert kinds == {searching.APPEAL, searching.KNOWLEDGE}
    knowledge = next(item for item in found if item.kind == searching.KNOWLEDGE)
    assert knowledge.url == f"/knowledge/{world.entry.pk}/"


def test_an_enterprise_user_finds_its_own_enterprise_only(world) -> None:
    user = world.cast.ent_user_a1
    assert _ids(searching.find(user, "留抵退税"), searching.APPEAL) == [world.tax.pk]
    assert searching.find(user, "停电 兴业大道", kind=searching.APPEAL) == []  # ent_a2's
    assert searching.find(user, "纬三路 塌陷") == []  # zone B's
    # A published entry of its zone is found, on the portal.
    (entry,) = searching.find(user, "停电 部门", kind=searching.KNOWLEDGE)
    assert entry.url.startswith("/portal/knowledge/?q=") and entry.url.endswith(f"#entry-{world.entry.pk}")


def test_a_handler_finds_its_department_s_appeals_only(world) -> None:
    handler = world.cast.handler_a  # 市场监管局: given the power appeal, never the tax one
    assert _ids(searching.find(handler, "停电 兴业大道"), searching.APPEAL) == [world.power.pk]
    assert searching.find(handler, "留抵退税 审核") == []
    assert _ids(searching.find(world.tax_handler, "留抵退税 审核"), searching.APPEAL) == [world.tax.pk]
    assert searching.find(world.tax_handler, "停电 兴业大道", kind=searching.APPEAL) == []


def test_another_zone_s_dispatcher_finds_nothing_of_zone_a(world) -> None:
    other = world.dispatcher_b
    for query in ("留抵退税", "停电 兴业大道", "退税款 到账"):
        assert searching.find(other, query) == []
    assert _ids(searching.find(other, "纬三路 塌陷"), searching.APPEAL) == [world.road.pk]


def test_a_narrow_scope_is_searched_beyond_the_first_page(world, monkeypatch) -> None:
    """Many newer matches out of scope: the scope's own entries are still found."""
    monkeypatch.setattr(search, "_PAGE", 2)
    for n in range(6):
        search.index(searching.APPEAL_KIND, 10_000 + n, title=f"留抵退税 审核 {n}", body="留抵退税审核")
    assert _ids(searching.find(world.cast.ent_user_a1, "留抵退税 审核"), searching.APPEAL) == [world.tax.pk]


def test_an_enterprise_s_answers_are_found_behind_many_newer_ones_of_others(world, monkeypatch) -> None:
    """The answers' narrow scope is listed from the enterprise's own appeals (AnswerScope), and
    only its own answer comes out; the other answers are of appeals it may not see."""
    monkeypatch.setattr(search, "_PAGE", 2)
    other = lifecycle.submit_appeal(
        world.cast.ent_a2,
        title="退税进度",
        body="退税进度咨询",
        channel=Channel.STEWARD,
        by=world.cast.steward_a2,
    )
    for n in range(6):  # six newer answer entries under ent_a2's appeal, of assignments it cannot read
        search.index(searching.ANSWER_KIND, 50_000 + n, title=other.title, body="退税款已经到账")
    own = world.tax.assignments.get(is_lead=True)
    found = searching.find(world.cast.ent_user_a1, "退税款 到账", kind=searching.ANSWER)
    assert _ids(found, searching.ANSWER) == [own.pk]
    scope = searching.AnswerScope(world.cast.ent_user_a1)
    assert scope.list_small(10) == [own.pk]
    assert scope.list_small(0) is None  # more answers than asked: not small


def test_the_answers_scope_is_checked_on_each_answer_s_appeal(world) -> None:
    own = world.tax.assignments.get(is_lead=True)
    for user, seen in (
        (world.cast.dispatcher_a, {own.pk}),
        (world.tax_handler, {own.pk}),
        (world.cast.ent_user_a1, {own.pk}),
        (world.cast.steward_a2, set()),  # ent_a2's steward: the tax appeal is ent_a1's
        (world.dispatcher_b, set()),
        (world.cast.handler_a, set()),
    ):
        assert searching.AnswerScope(user).allowed([own.pk, own.pk + 1000]) == seen, user.username


def test_confidential_enterprise_is_hidden_from_the_department(world) -> None:
    secret = lifecycle.submit_appeal(
        world.cast.ent_a1,
        title="兴业大道夜间施工噪声扰民",
        body="兴业大道夜间施工噪声很大，影响员工休息。",
        channel=Channel.PORTAL,
        by=world.cast.ent_user_a1,
        category=ensure_default_categories()["land"],
        confidential=True,
    )
    lifecycle.dispatch_appeal(secret, by=world.cast.dispatcher_a)
    (hit,) = searching.find(world.cast.handler_a, "施工噪声", kind=searching.APPEAL)
    assert hit.object_id == secret.pk and hit.enterprise_name == ""
    (hit,) = searching.find(world.cast.dispatcher_a, "施工噪声", kind=searching.APPEAL)
    assert hit.enterprise_name == world.cast.ent_a1.name


def test_admin_accounts_find_nothing(world) -> None:
    for user in (world.cast.sysadmin, world.cast.auditor, world.cast.outsider):
        assert searching.find(user, "留抵退税") == []


def test_reindex_appeals_rewrites_the_entries(world, capsys) -> None:
    SearchEntry.objects.filter(kind__in=[searching.APPEAL_KIND, searching.ANSWER_KIND]).delete()
    assert searching.find(world.cast.dispatcher_a, "留抵退税") == []
    call_command("reindex_appeals", "--zone", world.cast.zone_a.code)
    assert "诉求 2 条、答复 1 条" in capsys.readouterr().out
    assert _ids(searching.find(world.cast.dispatcher_a, "留抵退税"), searching.APPEAL) == [world.tax.pk]
    assert searching.find(world.dispatcher_b, "纬三路") == []  # zone B's appeal was not rewritten
