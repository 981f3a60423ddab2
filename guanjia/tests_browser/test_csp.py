"""Browser test: a walk through the main pages under the Content-Security-Policy reports no violation."""

from __future__ import annotations

import re

import pytest

from guanjia.appeals import services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import Appeal
from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _login, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Registered before any page script runs (through the DevTools protocol, which the policy
# does not govern), so that every violation of every page in the context is kept.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Walker:
    """A browser context for one user that collects CSP violations from events and the console."""

    def __init__(self, browser, base: str):  # noqa: F811 - the fixture is passed in
        self.base = base
        self.context = browser.new_context()
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.violations: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.console.append(f"{self.page.url}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )

    def collect(self) -> None:
        found = self.page.evaluate("window.__csp || []")
        self.violations += [f"{self.page.url}: {entry}" for entry in found]
        self.page.evaluate("window.__csp = []")

    def visit(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("load")
        self.collect()

    def report(self) -> list[str]:
        self.collect()
        return self.violations + self.console


def _walker(browser, base: str, username: str | None) -> Walker:  # noqa: F811
    walker = Walker(browser, base)
    if username:
        _login(walker.page, base, username)
        walker.collect()
    return walker


def test_the_main_pages_report_no_csp_violation_and_htmx_still_works(browser, live_server):  # noqa: F811
    cast = build_cast()
    land = ensure_default_categories()["land"]
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    base = live_server.url
    problems: list[str] = []

    anonymous = _walker(browser, base, None)
    anonymous.visit("/login/")
    assert anonymous.page.get_by_role("button", name="登录").is_visible()
    problems += anonymous.report()

    # The enterprise submits an appeal (a form POST and a redirect under form-action 'self').
    enterprise = _walker(browser, base, "ent_user_a1")
    enterprise.visit("/")
    enterprise.visit("/portal/")
    enterprise.visit("/appeals/mine/")
    enterprise.visit(f"/appeals/new/{cast.ent_a1.pk}/")
    enterprise.page.get_by_label("诉求类别").select_option(value=str(land.pk))
    enterprise.page.get_by_label("标题").fill("二期厂房容积率调整")
    enterprise.page.get_by_label("诉求内容").fill("想了解提高容积率的程序和所需材料。")
    enterprise.page.get_by_role("button", name="提交诉求").click()
    enterprise.page.wait_for_url(re.compile(r"/appeals/\d+/$"))
    problems += enterprise.report()
    appeal = Appeal.objects.get()

    # The dispatcher's pages, with htmx filtering the lists in place.
    dispatcher = _walker(browser, base, "dispatcher_a")
    for path in (
        "/appeals/queue/",
        f"/appeals/{appeal.pk}/",
        "/appeals/categories/",
        "/enterprises/import/",
        "/stewards/",
        "/system/inbox/",
    ):
        dispatcher.visit(path)
    dispatcher.visit("/enterprises/")
    rows = dispatcher.page.locator("#enterprise-table tbody tr")
    assert rows.filter(has_text=cast.ent_a1.name).count() == 1
    dispatcher.page.locator("#id_q").fill(cast.ent_a2.name)
    dispatcher.page.locator("#id_q").press("End")  # htmx listens for keyup, which fill() does not send
    dispatcher.page.wait_for_function("() => location.search.includes('q=')")
    dispatcher.page.wait_for_function(
        "name => !document.querySelector('#enterprise-table').innerText.includes(name)", arg=cast.ent_a1.name
    )
    assert rows.filter(has_text=cast.ent_a2.name).count() == 1
    dispatcher.visit("/appeals/")
    dispatcher.page.get_by_label("状态").select_option(index=1)
    dispatcher.page.wait_for_function("() => location.search.includes('status=')")
    problems += dispatcher.report()

    for username, paths in (
        ("steward_a", ("/", "/enterprises/mine/", f"/enterprises/{cast.ent_a1.pk}/", "/appeals/stewarded/")),
        ("handler_a", ("/appeals/worklist/",)),
        ("supervisor_a", ("/appeals/approvals/", "/appeals/board/")),
        ("sysadmin", ("/system/units/", "/system/users/", "/system/calendar/", "/system/webhooks/")),
        ("secadmin", ("/system/roles/",)),
        ("auditor", ("/system/audit/",)),
    ):
        walker = _walker(browser, base, username)
        for path in paths:
            walker.visit(path)
        problems += walker.report()
        walker.context.close()

    assert problems == []
    for walker in (anonymous, enterprise, dispatcher):
        walker.context.close()


def test_swagger_ui_runs_under_its_policy(browser, live_server):  # noqa: F811
    build_cast()
    walker = _walker(browser, live_server.url, "dispatcher_a")
    walker.visit("/api/docs/")
    walker.page.wait_for_selector(".swagger-ui .info .title")
    assert "Guanjia API" in walker.page.locator(".swagger-ui .info .title").inner_text()
    assert [v for v in walker.report() if "script-src" in v] == []
    # ReDoc's template asks for Google's web fonts; the policy refuses them (no call out,
    # system fonts instead). It also shows that the walk above would see a violation.
    walker.visit("/api/redoc/")
    refused = walker.report()
    assert any("fonts.googleapis.com" in v for v in refused), refused
    assert [v for v in refused if "script-src" in v] == []
    walker.context.close()


def test_the_import_progress_bar_is_sized_without_an_inline_style(browser, live_server):  # noqa: F811
    from django.utils import timezone

    from guanjia.enterprises.models import ImportJob

    cast = build_cast()
    job = ImportJob.objects.create(
        file="imports/none.csv",
        original_name="名录.csv",
        zone=cast.zone_a,
        created_by=cast.dispatcher_a,
        total_rows=10,
        processed_rows=4,
        heartbeat_at=timezone.now(),
    )
    walker = _walker(browser, live_server.url, "dispatcher_a")
    walker.visit(f"/enterprises/import/{job.pk}/")
    bar = walker.page.locator("#import-progress .progress-bar")
    walker.page.wait_for_function(
        "() => document.querySelector('#import-progress .progress-bar').style.width === '40%'"
    )
    # htmx swaps the partial in again every second: the new bar is sized too.
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=7, heartbeat_at=timezone.now())
    walker.page.wait_for_function(
        "() => document.querySelector('#import-progress .progress-bar').style.width === '70%'"
    )
    assert bar.get_attribute("aria-valuenow") == "70"
    assert walker.report() == []
    walker.context.close()
