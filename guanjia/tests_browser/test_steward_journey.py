"""Browser tests: Playwright driving Debian's chromium against a live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from guanjia.testing import PASSWORD, build_cast

CHROMIUM = os.environ.get("GUANJIA_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[1] / "static" / "vendor" / "axe-core" / "axe.min.js"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield browser
        browser.close()


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def _axe_violations(page) -> list[dict]:
    # By URL from the server's static files: the Content-Security-Policy refuses an inline script,
    # and add_script_tag(path=...) would inline it.
    assert AXE.exists()
    page.wait_for_load_state("load")  # a click may have started a navigation: inject into the new page
    page.add_script_tag(url=page.evaluate("location.origin") + "/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))"
    )
    return result


def test_steward_logs_in_and_opens_one_of_its_enterprises(browser, live_server):
    cast = build_cast()
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone, as in the field
    _login(page, live_server.url, "steward_a")
    page.get_by_role("link", name="我的企业").first.click()
    page.get_by_role("link", name=cast.ent_a1.name).click()
    assert page.locator("h1").inner_text() == cast.ent_a1.name
    assert page.locator("#current-steward").inner_text() == str(cast.steward_a)
    assert "13812345678" in page.locator(".contact-phone").first.inner_text()  # a steward sees the number
    assert _axe_violations(page) == []
    page.close()


def test_login_page_and_lockout_message_are_accessible(browser, live_server):
    build_cast()
    page = browser.new_page()
    page.goto(f"{live_server.url}/login/")
    assert _axe_violations(page) == []
    page.get_by_label("用户名").fill("steward_a")
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码不正确" in page.locator("#login-error").inner_text()
    page.close()


def test_dispatcher_filters_the_registry_with_htmx(browser, live_server):
    cast = build_cast()
    page = browser.new_page()
    _login(page, live_server.url, "dispatcher_a")
    page.goto(f"{live_server.url}/enterprises/")
    page.get_by_label("名称、信用代码或地址").fill("新材料")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_function(
        "() => !document.querySelector('#enterprise-table').innerText.includes('智能制造')"
    )
    assert cast.ent_a2.name in page.locator("#enterprise-table").inner_text()
    assert _axe_violations(page) == []
    page.close()
