"""Every login, permission change, setting change, export and appeal event leaves exactly the audit
record expected (action, actor, object), whether done on a page or through the API; the
application offers no way to change or remove a record; and the auditor's search (by actor,
action, object and days) selects the same rows on the page and in the export.

The model-level refusals (save, delete, queryset delete and update of a record) are in
test_audit.py; here: bulk_update and the absence of any view or endpoint that writes records.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.contrib import admin
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from guanjia.api_urls import router
from guanjia.appeals.models import AppealCategory, CategoryRoute
from guanjia.appeals.tests import conftest as appeal_fixtures
from guanjia.core import audit, views
from guanjia.core.models import AuditRecord, CalendarDay, DepartmentWebhook, OrgUnit
from guanjia.core.roles import Role
from guanjia.core.workcalendar import BEIJING
from guanjia.testing import PASSWORD

DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=secret-token"

# The appeal tests' fixtures (the cast routed for appeals, the 用地规划 category).
land = appeal_fixtures.land
routed = appeal_fixtures.routed


@pytest.fixture
def mark(db):
    """mark() → a function listing (action, actor, object_type, object_id) of the records written since."""

    def start():
        last = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0

        def written(prefix: str = "") -> list[tuple[str, str, str, str]]:
            rows = AuditRecord.objects.filter(id__gt=last, action__startswith=prefix).order_by("id")
            return [(r.action, r.actor_name, r.object_type, r.object_id) for r in rows]

        return written

    return start


# --- logins and permissions ---------------------------------------------------------------------


def test_login_failure_and_role_changes(cast, login, mark, client):
    written = mark()
    client.post(reverse("login"), {"username": "dispatcher_a", "password": "wrong-password"})
    client.post(reverse("login"), {"username": "dispatcher_a", "password": PASSWORD})
    uid = str(cast.dispatcher_a.pk)
    assert written("auth.") == [
        ("auth.login_failed", "system", "core.user", uid),
        ("auth.login", "dispatcher_a", "core.user", uid),
    ]
    written = mark()
    secadmin = login(cast.secadmin)
    secadmin.post(reverse("core:roles"), {"user": cast.outsider.pk, "role": Role.HANDLER})
    secadmin.post(reverse("core:role-revoke", args=[cast.outsider.pk]), {"role": Role.HANDLER})
    out = str(cast.outsider.pk)
    assert written("role.") == [
        ("role.grant", "secadmin", "core.user", out),
        ("role.revoke", "secadmin", "core.user", out),
    ]


# --- settings: organisation units (incl. 答复须经部门负责人审核) ------------------------------------


def test_units_are_audited_including_answer_approval(cast, login, mark):
    sysadmin = login(cast.sysadmin)
    written = mark()
    response = sysadmin.post(
        reverse("core:units"),
        {
            "name": "高新区税务局",
            "code": "zone-a-tax",
            "kind": OrgUnit.Kind.DEPARTMENT,
            "parent": cast.zone_a.pk,
        },
    )
    assert response.status_code == 302
    tax = OrgUnit.objects.get(code="zone-a-tax")
    assert written() == [("unit.create", "sysadmin", "core.orgunit", str(tax.pk))]
    written = mark()
    sysadmin.post(
        reverse("core:unit-edit", args=[tax.pk]),
        {
            "name": "高新区税务局",
            "code": "zone-a-tax",
            "kind": OrgUnit.Kind.DEPARTMENT,
            "parent": cast.zone_a.pk,
            "answers_need_approval": "on",
        },
    )
    tax.refresh_from_db()
    assert tax.answers_need_approval
    assert written() == [("unit.update", "sysadmin", "core.orgunit", str(tax.pk))]
    record = AuditRecord.objects.get(action="unit.update")
    assert record.detail["answers_need_approval"] is True
    assert record.detail["before"]["answers_need_approval"] is False
    # The edit form shows the setting as it is, and the list marks the department.
    page = sysadmin.get(reverse("core:unit-edit", args=[tax.pk])).content.decode()
    assert 'name="answers_need_approval"' in page and "checked" in page
    # A zone cannot require approval: refused, and nothing is recorded.
    written = mark()
    sysadmin.post(
        reverse("core:unit-edit", args=[cast.zone_a.pk]),
        {
            "name": "高新区",
            "code": "zone-a",
            "kind": OrgUnit.Kind.ZONE,
            "parent": cast.city.pk,
            "answers_need_approval": "on",
        },
    )
    assert not OrgUnit.objects.get(pk=cast.zone_a.pk).answers_need_approval
    assert written() == []


# --- settings: the work calendar ------------------------------------------------------------------


def test_calendar_days_and_declared_years_are_audited(cast, login, mark):
    sysadmin = login(cast.sysadmin)
    year = 2090  # beyond the built-in calendar
    written = mark()
    sysadmin.post(reverse("core:calendar"), {"day": f"{year}-01-01", "is_workday": "0", "name": "元旦"})
    sysadmin.post(reverse("core:calendar"), {"day": f"{year}-01-01", "is_workday": "0", "name": "新年"})
    day = CalendarDay.objects.get(date=date(year, 1, 1))
    sysadmin.post(reverse("core:calendar-year-declare"), {"year": year, "note": "国办发明电"})
    sysadmin.post(reverse("core:calendar"), {"day": f"{year}-01-02", "is_workday": "1", "name": ""})
    second = CalendarDay.objects.get(date=date(year, 1, 2)).pk
    sysadmin.post(reverse("core:calendar-day-remove"), {"date": f"{year}-01-02"})
    declared = AuditRecord.objects.get(action="calendar.year_declare").object_id
    assert written() == [
        ("calendar.day_create", "sysadmin", "core.calendarday", str(day.pk)),
        ("calendar.day_update", "sysadmin", "core.calendarday", str(day.pk)),
        ("calendar.year_declare", "sysadmin", "core.calendaryear", declared),
        ("calendar.day_create", "sysadmin", "core.calendarday", str(second)),
        ("calendar.day_delete", "sysadmin", "core.calendarday", str(second)),
    ]


# --- settings: appeal categories and routes -------------------------------------------------------


def _category_data(**over) -> dict:
    data = {
        "name": "环保审批",
        "code": "env",
        "parent": "",
        "position": 100,
        "is_active": "on",
        "accept_days": 1,
        "sign_days": 1,
        "answer_days_consult": 3,
        "answer_days_normal": 5,
        "answer_days_complex": 15,
        "answer_days_urgent": 1,
        "extension_max_days": 30,
    }
    return {**data, **over}


def test_categories_and_routes_are_audited(routed, login, mark):
    cast = routed
    sysadmin = login(cast.sysadmin)
    written = mark()
    assert sysadmin.post(reverse("appeals:categories"), _category_data()).status_code == 302
    category = AppealCategory.objects.get(code="env")
    sysadmin.post(reverse("appeals:category-edit", args=[category.pk]), _category_data(answer_days_normal=7))
    sysadmin.post(
        reverse("appeals:route-set"),
        {"zone": cast.zone_a.pk, "category": category.pk, "lead_department": cast.market_a.pk},
    )
    route = CategoryRoute.objects.get(category=category)
    sysadmin.post(reverse("appeals:route-remove", args=[route.pk]))
    assert written() == [
        ("appeal_category.create", "sysadmin", "appeals.appealcategory", str(category.pk)),
        ("appeal_category.update", "sysadmin", "appeals.appealcategory", str(category.pk)),
        ("appeal_route.set", "sysadmin", "appeals.categoryroute", str(route.pk)),
        ("appeal_route.remove", "sysadmin", "appeals.categoryroute", str(route.pk)),
    ]
    # Readers cannot change them, and a refused attempt records nothing.
    dispatcher = login(cast.dispatcher_a)
    written = mark()
    assert dispatcher.post(reverse("appeals:categories"), _category_data(code="x")).status_code == 403
    assert written() == []


# --- settings: department robots, on the page and through the API ------------------------------------


def test_department_webhooks_are_audited_on_the_page(cast, login, mark):
    sysadmin = login(cast.sysadmin)
    written = mark()
    sysadmin.post(
        reverse("core:robots"),
        {"unit": cast.market_a.pk, "kind": "dingtalk", "url": DINGTALK, "is_active": "on"},
    )
    robot = DepartmentWebhook.objects.get()
    rid = str(robot.pk)
    sysadmin.post(
        reverse("core:robot-edit", args=[robot.pk]),
        {
            "unit": cast.market_a.pk,
            "kind": "dingtalk",
            "url": "",
            "is_active": "on",
            "secret": "SEC123456789",
        },
    )
    sysadmin.post(reverse("core:robot-active", args=[robot.pk]), {"active": "0"})
    sysadmin.post(reverse("core:robot-test", args=[robot.pk]))
    sysadmin.post(reverse("core:robot-delete", args=[robot.pk]))
    kind = "core.departmentwebhook"
    assert written() == [
        ("webhook.create", "sysadmin", kind, rid),
        ("webhook.update", "sysadmin", kind, rid),
        ("webhook.disable", "sysadmin", kind, rid),
        ("webhook.test", "sysadmin", kind, rid),
        ("webhook.delete", "sysadmin", kind, rid),
    ]
    # The address's token and the secret stay out of the log.
    for rec in AuditRecord.objects.filter(action__startswith="webhook."):
        assert "secret-token" not in f"{rec.summary}{rec.detail}" and "SEC123456789" not in str(rec.detail)


def test_department_webhooks_are_audited_through_the_api(cast, login, mark):
    api = login(cast.sysadmin)
    written = mark()
    created = api.post(
        "/api/department-webhooks/",
        {"unit": cast.market_a.pk, "kind": "dingtalk", "url": DINGTALK, "is_active": True},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    rid = str(created.json()["id"])
    api.patch(f"/api/department-webhooks/{rid}/", {"is_active": False}, content_type="application/json")
    assert api.post(f"/api/department-webhooks/{rid}/test/").status_code == 202
    assert api.delete(f"/api/department-webhooks/{rid}/").status_code == 204
    kind = "core.departmentwebhook"
    assert written() == [
        ("webhook.create", "sysadmin", kind, rid),
        ("webhook.update", "sysadmin", kind, rid),
        ("webhook.test", "sysadmin", kind, rid),
        ("webhook.delete", "sysadmin", kind, rid),
    ]
    dispatcher = login(cast.dispatcher_a)
    written = mark()
    refused = dispatcher.post(
        "/api/department-webhooks/",
        {"unit": cast.market_a.pk, "kind": "dingtalk", "url": DINGTALK},
        content_type="application/json",
    )
    assert refused.status_code == 403 and written() == []


# --- exports ------------------------------------------------------------------------------------


def test_exports_are_audited(routed, login, mark):
    cast = routed
    dispatcher, auditor = login(cast.dispatcher_a), login(cast.auditor)
    written = mark()
    response = dispatcher.get(reverse("enterprises:export"), {"format": "csv"})
    b"".join(response.streaming_content)
    dispatcher.get(reverse("appeals:list"), {"format": "xlsx"})
    auditor.get(reverse("core:audit-export"))
    assert written() == [
        ("enterprise.export", "dispatcher_a", "enterprises.enterprise", ""),
        ("appeal.export", "dispatcher_a", "", ""),
        ("audit.export", "auditor", "", ""),
    ]


# --- appeal events ------------------------------------------------------------------------------


def test_appeal_events_through_the_api_are_audited_one_each(routed, land, login, mark):
    cast = routed
    written = mark()
    created = login(cast.ent_user_a1).post(
        "/api/appeals/",
        {"enterprise": cast.ent_a1.pk, "title": "用地指标", "body": "需要新增用地", "category": land.pk},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    version = created.json()["version"]
    dispatched = login(cast.dispatcher_a).post(
        f"/api/appeals/{pk}/dispatch/", {"version": version}, content_type="application/json"
    )
    assert dispatched.status_code == 200, dispatched.content
    signed = login(cast.handler_a).post(
        f"/api/appeals/{pk}/sign/", {"version": dispatched.json()["version"]}, content_type="application/json"
    )
    assert signed.status_code == 200, signed.content
    assert written("appeal.") == [
        ("appeal.submit", "ent_user_a1", "appeals.appeal", str(pk)),
        ("appeal.dispatch", "dispatcher_a", "appeals.appeal", str(pk)),
        ("appeal.sign", "handler_a", "appeals.appeal", str(pk)),
    ]


# --- no edit or delete path for audit records -----------------------------------------------------


def test_bulk_update_of_a_record_is_refused(db):
    rec = audit.record(None, "test.one", summary="原文")
    rec.summary = "改过"
    with pytest.raises(PermissionError), transaction.atomic():
        AuditRecord.objects.bulk_update([rec], ["summary"])
    with pytest.raises(PermissionError), transaction.atomic():
        AuditRecord.objects.filter(pk=rec.pk).update(action="test.other")
    assert AuditRecord.objects.get(pk=rec.pk).summary == "原文"


def _patterns(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def _reads_audit_records(view) -> bool:
    """Whether a function view's code names AuditRecord (directly, or through a helper of its module)."""
    func = getattr(view, "__wrapped__", view)
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    code = getattr(func, "__code__", None)
    return code is not None and ("AuditRecord" in code.co_names or "_audit_queryset" in code.co_names)


def test_no_url_leads_to_a_view_that_writes_audit_records(db):
    # Django's admin: AuditRecord is not registered at all (read or write).
    assert AuditRecord not in admin.site._registry
    # The API: no viewset is built on audit records.
    for _prefix, viewset, _basename in router.registry:
        queryset = getattr(viewset, "queryset", None)
        serializer = getattr(viewset, "serializer_class", None)
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        assert (queryset is None or queryset.model is not AuditRecord) and model is not AuditRecord, viewset
    # The pages: only the auditor's log and export touch the records, and they answer GET only.
    routes = list(_patterns(get_resolver()))
    assert not [route for route, _pattern in routes if "auditrecord" in route.lower()]
    touching = {route for route, pattern in routes if _reads_audit_records(pattern.callback)}
    assert touching == {"system/audit/", "system/audit/export/"}
    assert views.audit_log is get_resolver().resolve("/system/audit/").func


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_auditors_pages_answer_get_only(cast, login, method):
    audit.record(cast.sysadmin, "test.one", summary="原文")
    client = login(cast.auditor)
    before = list(AuditRecord.objects.values_list("id", "summary", "action"))
    for url in (reverse("core:audit"), reverse("core:audit-export")):
        response = getattr(client, method)(url, {"summary": "改过"})
        assert response.status_code == 405, (method, url)
    assert list(AuditRecord.objects.values_list("id", "summary", "action")) == before


# --- the auditor's search and its export ------------------------------------------------------------


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING)


@pytest.fixture
def history(cast):
    """Records on three Beijing days, by three actors, on two objects."""
    days = [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    # 23:30 on the 2nd, Beijing time: already the 2nd in UTC too, but the 3rd's 00:30 is the 2nd in UTC.
    plan = [
        (_at(days[0], 23) + timedelta(minutes=30), cast.dispatcher_a, "appeal.dispatch", cast.ent_a1),
        (_at(days[1], 0) + timedelta(minutes=30), cast.handler_a, "appeal.sign", cast.ent_a1),
        (_at(days[1]), cast.sysadmin, "unit.update", cast.zone_a),
        (_at(days[2]), cast.dispatcher_a, "appeal.decline", cast.ent_a2),
    ]
    for moment, actor, action, obj in plan:
        with time_machine.travel(moment, tick=False):
            audit.record(actor, action, obj, summary=f"{action} {obj}")
    return days


def _matches(rec: AuditRecord, params: dict[str, str]) -> bool:
    """The search's meaning, written out independently of the view."""
    day = timezone.localtime(rec.at, BEIJING).date()
    action = params.get("action", "")
    q = params.get("q", "")
    return (
        (not params.get("actor") or rec.actor_name == params["actor"])
        and (not action or (rec.action.startswith(action) if action.endswith(".") else rec.action == action))
        and (not params.get("object_type") or rec.object_type == params["object_type"])
        and (not params.get("object_id") or rec.object_id == params["object_id"])
        and (not params.get("since") or day >= date.fromisoformat(params["since"]))
        and (not params.get("until") or day <= date.fromisoformat(params["until"]))
        and (not q or q in rec.actor_name or q in rec.action or q in rec.summary or q == rec.object_id)
    )


def _selected(params: dict[str, str]) -> list[int]:
    return [rec.id for rec in AuditRecord.objects.order_by("id") if _matches(rec, params)]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"actor": "dispatcher_a"}, ["appeal.dispatch", "appeal.decline"]),
        ({"action": "appeal.sign"}, ["appeal.sign"]),
        ({"action": "appeal."}, ["appeal.dispatch", "appeal.sign", "appeal.decline"]),
        ({"object_type": "core.orgunit"}, ["unit.update"]),
        ({"object_type": "enterprises.enterprise", "object_id": "{ent_a2}"}, ["appeal.decline"]),
        ({"since": "2026-03-03", "until": "2026-03-03"}, ["appeal.sign", "unit.update"]),
        ({"since": "2026-03-03", "until": "2026-03-04"}, ["appeal.sign", "unit.update", "appeal.decline"]),
        ({"until": "2026-03-02"}, ["appeal.dispatch"]),
        ({"actor": "dispatcher_a", "since": "2026-03-04"}, ["appeal.decline"]),
        ({"q": "unit.update"}, ["unit.update"]),
    ],
)
def test_audit_search_and_export_select_the_same_rows(cast, history, login, params, expected):
    params = {k: v.format(ent_a2=cast.ent_a2.pk) for k, v in params.items()}
    client = login(cast.auditor)  # (its auth.login record is today's, outside the planted days)
    planted = AuditRecord.objects.filter(at__lt=_at(date(2026, 3, 5), 0))
    page = client.get(reverse("core:audit"), params)
    assert page.status_code == 200
    found = sorted(rec.id for rec in page.context["page"])
    assert found == _selected(params)
    assert [r.action for r in planted.filter(id__in=found).order_by("id")] == expected
    response = client.get(reverse("core:audit-export"), params)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    exported = [int(r[0]) for r in rows[1:]]
    assert exported == _selected(params)  # the same rows (and the export's own record, if it matches)
    assert [r.action for r in planted.filter(id__in=exported).order_by("id")] == expected
    export = AuditRecord.objects.filter(action="audit.export").latest("id")
    assert export.actor_id == cast.auditor.pk and export.detail["filters"] == params


def test_the_page_links_its_export_with_the_same_search(cast, history, login):
    page = login(cast.auditor).get(reverse("core:audit"), {"actor": "dispatcher_a", "since": "2026-03-03"})
    assert 'href="/system/audit/export/?actor=dispatcher_a&amp;since=2026-03-03"' in page.content.decode()


def test_a_reversed_date_range_is_named_and_left_out(cast, history, login):
    page = login(cast.auditor).get(reverse("core:audit"), {"since": "2026-03-04", "until": "2026-03-02"})
    assert page.status_code == 200
    assert "截止日期不能早于起始日期" in page.content.decode()
