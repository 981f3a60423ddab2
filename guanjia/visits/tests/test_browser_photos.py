"""Browser test on a phone (390 px): a steward plans a visit, records it from the plan with a photo, and
sees the photo on the visit's page; no page of the way scrolls sideways, and axe finds nothing serious."""

from __future__ import annotations

import pytest

from guanjia.testing import build_cast
from guanjia.tests_browser.test_steward_journey import _axe_violations, _login, browser  # noqa: F401
from guanjia.visits import services
from guanjia.visits.models import Visit, VisitPhoto

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_steward_records_a_planned_visit_with_a_photo_on_a_phone(browser, live_server, settings, tmp_path):  # noqa: F811
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    cast = build_cast()
    plan = services.plan_visit(cast.ent_a1, on=services.today(), by=cast.steward_a, note="了解用工需求")
    page = browser.new_page(viewport=PHONE)
    base = live_server.url
    _login(page, base, cast.steward_a.username)
    page.goto(f"{base}/visits/")
    assert _fits(page)
    assert _axe_violations(page) == []
    page.locator('[data-testid="plans-week"]').get_by_role("link", name="登记走访").click()
    page.wait_for_url(f"**/visits/new/{cast.ent_a1.pk}/?plan={plan.pk}")
    assert _fits(page)
    assert _axe_violations(page) == []
    page.get_by_label("我方人员").fill("张管家")
    page.get_by_label("企业方人员").fill("王经理")
    page.get_by_label("走访情况").fill("按计划上门走访")
    page.locator("#id_photos_album").set_input_files(
        files=[{"name": "车间.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.locator("form.visit-form").get_by_role("button", name="登记走访").click()
    page.wait_for_url(f"**/visits/{plan.pk}/")
    assert _fits(page)
    photo = VisitPhoto.objects.get(visit_id=plan.pk)
    image = page.locator('[data-testid="visit-photos"] img')
    assert image.count() == 1
    assert page.evaluate("img => img.naturalWidth >= 0", image.element_handle()) is True
    assert Visit.objects.get(pk=plan.pk).visited_on == services.today() and photo.name == "车间.png"
    assert _axe_violations(page) == []
    page.close()
