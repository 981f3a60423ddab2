"""A confidential appeal (对承办部门隐去企业身份): the departments that handle it — handlers and heads
of the lead and of the co-handling department — never learn which enterprise asked, on any
surface: the appeal page, the worklists and their export, the API, the inbox, the outbox (mail,
SMS, robot messages), and the pages they may not open. The zone's dispatcher and supervisor still
see the enterprise.

What must not reach a department: the enterprise's name and USCC, its contact's name and phone,
and the names of the people who acted for it (its user, its steward).
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from guanjia.appeals import escalation, lifecycle, worklists
from guanjia.appeals.models import Appeal, Channel
from guanjia.appeals.tests.test_steps_pages import add_people
from guanjia.core import webhooks
from guanjia.core.models import DepartmentWebhook, Notification, OutboxMessage, User
from guanjia.testing import USCC_A1

NAME = "示例智能制造有限公司"
SECRETS = (NAME, USCC_A1, "王经理", "13812345678", "ent_user_a1", "steward_a")


@pytest.fixture
def people(routed):
    cast = add_people(routed)
    for unit in (cast.market_a, cast.tax_a):
        webhooks.save_webhook(
            unit=unit,
            kind=DepartmentWebhook.Kind.DINGTALK,
            url=f"https://oapi.dingtalk.com/robot/send?access_token=token-{unit.code}",
            by=None,
        )
    cast.department = (cast.handler_a, cast.head_a, cast.handler_tax, cast.head_tax)
    return cast


def _confidential(cast, land, title: str) -> Appeal:
    appeal = lifecycle.submit_appeal(
        cast.ent_a1,
        title=title,
        body="厂区道路需要改造",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=land,
        confidential=True,
    )
    lifecycle.dispatch_appeal(appeal, co=[cast.tax_a], by=cast.dispatcher_a)
    return Appeal.objects.get(pk=appeal.pk)


@pytest.fixture
def handled(people, land):
    """Two confidential appeals taken through the steps that tell someone something: sign, pause
    (the enterprise is asked for material), resume by the enterprise, an extension request, a
    supervisor's 督办, and the overdue sweep (warnings, 催办 and 红牌 with the departments' digests)."""
    first = _confidential(people, land, "道路改造")
    second = _confidential(people, land, "停车位不足")
    lifecycle.sign_appeal(first, by=people.handler_a)
    lifecycle.pause_appeal(Appeal.objects.get(pk=first.pk), request="请提供现场照片", by=people.handler_a)
    lifecycle.resume_appeal(Appeal.objects.get(pk=first.pk), reply="已上传", by=people.ent_user_a1)
    lifecycle.request_extension(Appeal.objects.get(pk=first.pk), days=2, reason="需会商", by=people.handler_a)
    escalation.escalate_by_hand(Appeal.objects.get(pk=second.pk), note="请加快", by=people.supervisor_a)
    for days in (0, 10, 30):  # 预警, then 催办, then 红牌: each sweep writes its notices and robot messages
        escalation.sweep(timezone.now() + timedelta(days=days))
    return people, first, second


def raw(response) -> bytes:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    if data[:2] == b"PK":  # an .xlsx: its cells are in the compressed XML parts
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    return data


def leaks(data: bytes | str) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [secret for secret in SECRETS if secret in text]


def test_the_appeal_page_hides_the_enterprise_from_the_departments(handled, login):
    cast, first, second = handled
    for user in cast.department:
        for appeal in (first, second):
            response = login(user).get(reverse("appeals:detail", args=[appeal.pk]))
            assert response.status_code == 200, user
            assert leaks(raw(response)) == [], (user, appeal.pk)
    for user in (cast.dispatcher_a, cast.supervisor_a):
        data = raw(login(user).get(reverse("appeals:detail", args=[first.pk])))
        assert NAME.encode() in data and b"13812345678" in data, user


def test_worklists_and_their_export_hide_the_enterprise(handled, login):
    cast, first, _second = handled
    for user in cast.department:
        client = login(user)
        for tab, _label in worklists.WORKLIST_TABS:
            page = client.get(reverse("appeals:worklist"), {"tab": tab})
            assert page.status_code == 200
            assert leaks(raw(page)) == [], (user, tab)
            export = client.get(reverse("appeals:worklist"), {"tab": tab, "format": "xlsx"})
            assert export.status_code == 200
            assert leaks(raw(export)) == [], (user, tab, "xlsx")
        # A search for the enterprise's name finds nothing to show, and says nothing.
        found = client.get(reverse("appeals:worklist"), {"tab": "doing", "q": NAME})
        assert leaks(raw(found).replace(NAME.encode(), b"", 1)) == []


def test_the_api_hides_the_enterprise_from_the_departments(handled, login):
    cast, first, second = handled
    for user in cast.department:
        client = login(user)
        listing = client.get("/api/appeals/")
        assert listing.status_code == 200
        assert {row["id"] for row in listing.json()["results"]} >= {first.pk, second.pk}
        assert leaks(raw(listing)) == [], user
        for appeal in (first, second):
            detail = client.get(f"/api/appeals/{appeal.pk}/")
            assert detail.status_code == 200
            assert detail.json()["enterprise"] is None and detail.json()["enterprise_name"] is None
            assert leaks(raw(detail)) == [], (user, appeal.pk)
        # Filtering by the enterprise's id does not confirm it either.
        probe = client.get("/api/appeals/", {"enterprise": cast.ent_a1.pk})
        assert leaks(raw(probe)) == []
        assert probe.status_code == 400 or first.pk not in {r["id"] for r in probe.json()["results"]}
    for user in (cast.dispatcher_a, cast.supervisor_a):
        detail = login(user).get(f"/api/appeals/{first.pk}/").json()
        assert detail["enterprise_name"] == NAME, user


def test_the_department_cannot_open_the_zone_wide_pages(handled, login):
    cast, first, _second = handled
    for user in cast.department:
        client = login(user)
        for url in (reverse("appeals:board"), reverse("appeals:list"), reverse("appeals:approvals")):
            response = client.get(url)
            assert response.status_code in (403, 404), (user, url)
            assert leaks(raw(response)) == []
        assert client.get(reverse("appeals:board"), {"format": "xlsx"}).status_code == 403
        assert client.get(reverse("appeals:list"), {"format": "xlsx"}).status_code == 403
    with time_machine.travel(timezone.now() + timedelta(days=30)):  # both appeals overdue by then
        board = raw(login(cast.supervisor_a).get(reverse("appeals:board")))
    assert NAME.encode() in board  # the supervisor sees who asked


def test_inbox_notices_to_the_departments_name_no_enterprise(handled, login):
    cast, first, _second = handled
    ids = [u.pk for u in cast.department]
    notes = list(Notification.objects.filter(user_id__in=ids))
    assert notes, "the steps and the sweep notified the departments"
    for note in notes:
        assert leaks(note.title + note.link) == [], note.title
    for user in cast.department:
        page = login(user).get(reverse("core:inbox"))
        assert leaks(raw(page)) == [], user
    # Home pages show counts and links, never who.
    for user in cast.department:
        assert leaks(raw(login(user).get("/"))) == [], user


def test_outbox_messages_name_no_enterprise(handled):
    """Every message written — robot posts to both departments' groups, mail and SMS to anyone —
    carries no enterprise detail, in its payload, its subject or the sentence a robot posts."""
    messages = list(OutboxMessage.objects.all())
    robots = [m for m in messages if m.channel == OutboxMessage.Channel.WEBHOOK]
    assert {m.recipient.rsplit("-", 1)[-1] for m in robots} >= {"market", "tax"}
    events = {m.payload["event"] for m in robots}
    assert {"dispatched", "manual", "extension_requested"} <= events
    assert events & {"warning", "warning.many", "yellow", "yellow.many", "red", "red.many"}
    for message in messages:
        assert leaks(f"{message.subject}{message.payload}") == [], message.payload
        if message.channel == OutboxMessage.Channel.WEBHOOK:
            text = webhooks.message_text(
                message.payload["event"], message.payload["ref"], message.payload["link"]
            )
            assert leaks(text) == [], text
    # Only the enterprise's own contact gets an SMS at its number (the pause); no department member does.
    department_phones = set(
        User.objects.filter(pk__in=[u.pk for u in handled[0].department])
        .exclude(phone="")
        .values_list("phone", flat=True)
    )
    assert not {m.recipient for m in messages} & department_phones
