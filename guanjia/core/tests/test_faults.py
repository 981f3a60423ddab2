"""Faults: a worker killed mid-batch, and the database briefly unavailable."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from html.parser import HTMLParser
from unittest import mock

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from guanjia.appeals.models import Appeal
from guanjia.core import faults, outbox
from guanjia.core.models import OutboxMessage
from guanjia.core.tests import killable
from guanjia.testing import PASSWORD

# --- A worker killed in the middle of a notification batch ----------------------------------------

DURABLE_SMS = "guanjia.core.tests.killable.DurableSmsBackend"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_no_message_and_sends_none_twice(tmp_path, settings, monkeypatch):
    ids = [
        OutboxMessage.objects.create(
            channel="sms", recipient=f"1380000{n:04d}", payload={"text": "您有新的答复", "link": f"/a/{n}/"}
        ).id
        for n in range(20)
    ]
    in_flight = ids[7]
    worker = killable.spawn(
        "outbox",
        workdir=tmp_path,
        settings={"SMS_BACKEND": DURABLE_SMS, "OUTBOX_LEASE_SECONDS": 60},
        hang_on=str(in_flight),
    )
    assert killable.wait_until_ready(worker, tmp_path) == str(in_flight)
    killable.kill(worker)  # while the gateway holds message 8

    assert killable.delivered(tmp_path) == ids[:7]
    status = dict(OutboxMessage.objects.values_list("id", "status"))
    assert {status[i] for i in ids[:7]} == {OutboxMessage.Status.SENT}
    assert status[in_flight] == OutboxMessage.Status.SENDING  # the dead worker holds this one only
    assert {status[i] for i in ids[8:]} == {OutboxMessage.Status.PENDING}

    settings.SMS_BACKEND = DURABLE_SMS
    settings.OUTBOX_LEASE_SECONDS = 60
    monkeypatch.setenv(killable.ENV_WORKDIR, str(tmp_path))
    # The restarted worker sends the rest at once; the message in flight waits for its lease to run out.
    assert outbox.deliver_pending(worker="restarted") == 12
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert outbox.deliver_pending(worker="restarted") == 1
        assert outbox.deliver_pending(worker="restarted") == 0

    counts = Counter(killable.delivered(tmp_path))
    assert set(counts) == set(ids), "no message is lost"
    assert set(counts.values()) == {1}, "none is sent twice"
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxMessage.Status.SENT}
    assert OutboxMessage.objects.get(id=in_flight).attempts == 2


# --- The database briefly unavailable -------------------------------------------------------------

TITLE = "厂房消防验收咨询 <b>急</b>"
BODY = "新厂房何时可以申请消防验收？\n地址：<script>alert(1)</script> & 二期"


class FormReader(HTMLParser):
    """The forms of a page: action, and each named field's value (inputs and textareas)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action"), "fields": [], "files": []})
        elif tag == "input" and self.forms and attributes.get("name"):
            if attributes.get("type") == "file":
                self.forms[-1]["files"].append(attributes["name"])
            else:
                self.forms[-1]["fields"].append((attributes["name"], attributes.get("value") or ""))
        elif tag == "textarea" and self.forms:
            self._textarea = attributes.get("name")
            self.forms[-1]["fields"].append((self._textarea, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, value = self.forms[-1]["fields"][-1]
            self.forms[-1]["fields"][-1] = (name, value + data)


def read_forms(html: str) -> list[dict]:
    reader = FormReader()
    reader.feed(html)
    return reader.forms


def csrf_client(user, *, raise_request_exception: bool = True) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=raise_request_exception)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def form_token(client: Client, url: str) -> str:
    (form,) = [f for f in read_forms(client.get(url).content.decode()) if f["action"] in ("", None, url)]
    return dict(form["fields"])["csrfmiddlewaretoken"]


def assert_no_technical_detail(page: str) -> None:
    for leak in ("Traceback", "OperationalError", "connection", "sqlite", "psycopg", 'File "'):
        assert leak not in page


def test_a_submission_that_meets_a_database_outage_keeps_what_was_typed(cast):
    client = csrf_client(cast.ent_user_a1)
    url = reverse("appeals:submit", args=[cast.ent_a1.pk])
    typed = {"title": TITLE, "body": BODY, "handling": "consult", "urgent": "on", "password": "never-echoed"}
    down = OperationalError("could not connect to server: Connection refused")
    with mock.patch("guanjia.appeals.lifecycle.submit_appeal", side_effect=down):
        response = client.post(url, {**typed, "csrfmiddlewaretoken": form_token(client, url)})

    assert response.status_code == 503
    assert response["Retry-After"] == str(faults.RETRY_AFTER_SECONDS)
    page = response.content.decode()
    assert "数据库暂时不可用" in page and "重新提交" in page
    assert_no_technical_detail(page)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page  # escaped
    assert not Appeal.objects.exists()

    (form,) = [f for f in read_forms(page) if f["action"] == url]
    fields = dict(form["fields"])
    assert fields["title"] == TITLE and fields["body"] == BODY
    assert fields["handling"] == "consult" and fields["urgent"] == "on"
    assert "password" not in fields and "never-echoed" not in page
    assert fields["csrfmiddlewaretoken"]

    # The database is back: one click on 重新提交 sends exactly what was typed.
    again = client.post(url, dict(form["fields"]))
    assert again.status_code == 302, again.content.decode()[:500]
    appeal = Appeal.objects.get()
    assert (appeal.title, appeal.body, appeal.urgent) == (TITLE.strip(), BODY.strip(), True)


def test_files_cannot_be_kept_and_the_page_says_to_choose_them_again(cast):
    client = csrf_client(cast.ent_user_a1)
    url = reverse("appeals:submit", args=[cast.ent_a1.pk])
    upload = SimpleUploadedFile("现场.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    with mock.patch("guanjia.appeals.lifecycle.submit_appeal", side_effect=OperationalError("down")):
        response = client.post(
            url,
            {
                "title": TITLE,
                "body": BODY,
                "handling": "consult",
                "attachments": upload,
                "csrfmiddlewaretoken": form_token(client, url),
            },
        )
    assert response.status_code == 503
    page = response.content.decode()
    assert "重新选择附件" in page and 'enctype="multipart/form-data"' in page
    (form,) = [f for f in read_forms(page) if f["action"] == url]
    assert form["files"] == ["attachments"]
    assert not Appeal.objects.exists()


def test_the_api_answers_503_in_json(cast, login):
    client = login(cast.ent_user_a1)
    body = {"enterprise": cast.ent_a1.pk, "title": TITLE, "body": BODY}
    with mock.patch("guanjia.appeals.lifecycle.submit_appeal", side_effect=OperationalError("down")):
        response = client.post("/api/appeals/", body, content_type="application/json")
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(faults.RETRY_AFTER_SECONDS)
    assert "数据库暂时不可用" in response.json()["detail"]
    assert_no_technical_detail(response.content.decode())
    assert not Appeal.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_outage_is_a_503_that_keeps_the_typed_text(cast):
    # The session middleware fails a second time on the way out (it reads the session it could not
    # load); Django turns that into a 500, which the middleware swaps for the 503: as a browser sees it.
    client = csrf_client(cast.ent_user_a1, raise_request_exception=False)
    url = reverse("appeals:submit", args=[cast.ent_a1.pk])
    token = form_token(client, url)
    unreachable = (
        {"NAME": "/nonexistent-guanjia-dir/down.sqlite3"}
        if connection.vendor == "sqlite"
        else {"HOST": "127.0.0.1", "PORT": "1"}  # nothing listens there: connection refused
    )
    saved = {key: connection.settings_dict[key] for key in unreachable}
    connection.close()
    connection.settings_dict.update(unreachable)
    try:
        response = client.post(
            url, {"title": TITLE, "body": BODY, "handling": "consult", "csrfmiddlewaretoken": token}
        )
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    page = response.content.decode()
    assert_no_technical_detail(page)
    fields = dict(next(f for f in read_forms(page) if f["action"] == url)["fields"])
    assert (fields["title"], fields["body"]) == (TITLE, BODY)
    assert not Appeal.objects.exists()


class FailingMiddleware:
    """A middleware below ours whose query fails (as a session or user lookup would)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request) -> HttpResponse:
        raise OperationalError("server closed the connection unexpectedly")


def test_an_outage_inside_an_inner_middleware_is_a_503_too(cast, settings):
    index = settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: index + 1],
        "guanjia.core.tests.test_faults.FailingMiddleware",
        *settings.MIDDLEWARE[index + 1 :],
    ]
    client = Client(raise_request_exception=False)
    response = client.post("/login/", {"username": "someone", "password": "secret-typed"})
    assert response.status_code == 503
    page = response.content.decode()
    assert "数据库暂时不可用" in page and "someone" in page and "secret-typed" not in page
    api = client.get("/api/appeals/")
    assert api.status_code == 503 and "数据库暂时不可用" in api.json()["detail"]


def test_the_page_needs_no_query(db, django_assert_num_queries):
    request = RequestFactory().post("/appeals/new/1/", {"title": TITLE, "body": BODY})
    with django_assert_num_queries(0):
        response = faults.unavailable_response(request)
    assert response.status_code == 503 and "重新提交" in response.content.decode()


def test_other_errors_get_the_chinese_500_page(cast):
    client = Client(raise_request_exception=False)
    assert client.login(username=cast.ent_user_a1.username, password=PASSWORD)
    url = reverse("appeals:submit", args=[cast.ent_a1.pk])
    with mock.patch("guanjia.appeals.lifecycle.submit_appeal", side_effect=RuntimeError("bug")):
        response = client.post(url, {"title": TITLE, "body": BODY, "handling": "consult"})
    assert response.status_code == 500
    page = response.content.decode()
    assert "系统错误" in page and "Traceback" not in page and "RuntimeError" not in page
