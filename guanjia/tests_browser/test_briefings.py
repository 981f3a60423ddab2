"""Browser test: a zone leader generates last week's 周报 from the briefings page and downloads its
PDF, which carries its text in Chinese; the page works on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from guanjia.cockpit.models import Briefing
from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_leader_generates_and_downloads_the_weekly_briefing(browser, live_server, settings, tmp_path):  # noqa: F811
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    cast = build_cast()
    base = live_server.url
    page = browser.new_page(viewport=PHONE, accept_downloads=True)
    _login(page, base, "leader_a")

    page.goto(f"{base}/cockpit/briefings/")
    assert "暂无简报" in page.get_by_test_id("briefings").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_test_id("generate-weekly").click()
    page.wait_for_url(f"{base}/cockpit/briefings/")
    made = Briefing.objects.get(kind=Briefing.Kind.WEEKLY, zone=cast.zone_a)
    row = page.get_by_test_id(f"briefing-{made.pk}")
    assert "高新区 · 周报" in row.inner_text()

    with page.expect_download() as info:
        row.get_by_role("link", name="PDF").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    saved = tmp_path / "briefing.pdf"
    download.save_as(saved)
    text = "".join(p.extract_text() for p in PdfReader(Path(saved)).pages)
    assert "高新区周报" in text and "按时办结率" in text and "红牌督办" in text
    # The list with its briefing, freshly loaded: the clicked button's hover and focus transitions
    # would otherwise be caught mid-way by the contrast check.
    page.goto(f"{base}/cockpit/briefings/")
    assert _axe_violations(page) == []
    page.close()
