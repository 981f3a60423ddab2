"""站内消息: notify() writes the inbox (and points to it by mail/SMS); each user sees and marks only their own."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse

from guanjia.core import notifications
from guanjia.core.models import Notification, OutboxMessage

BJ = ZoneInfo("Asia/Shanghai")


def test_notify_writes_one_message_per_user_and_mail_and_sms_only_when_asked(cast):
    cast.handler_a.email = "handler@example.cn"
    cast.handler_a.save()
    cast.supervisor_a.phone = "13700000001"
    cast.supervisor_a.save()
    cast.steward_a.is_active = False
    cast.steward_a.save()
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=BJ), tick=False):
        created = notifications.notify(
            [cast.handler_a, cast.handler_a, cast.supervisor_a, cast.steward_a],
            title="【催办】诉求 #7 已超过答复期限",
            link="/appeals/7/",
            email=True,
            sms=True,
        )
    assert len(created) == 2  # the same user once; an inactive account not at all
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"handler_a", "supervisor_a"}
    mail = OutboxMessage.objects.get(channel="email")  # supervisor_a has no e-mail address
    assert mail.recipient == "handler@example.cn"
    sms = OutboxMessage.objects.get(channel="sms")  # handler_a has no phone
    assert sms.recipient == "13700000001"
    for message in (mail, sms):
        # An identifier and a link only: the in-app title stays in the app.
        assert "诉求" not in f"{message.subject} {message.payload}"
        assert message.payload["link"].endswith("/appeals/7/")
        assert message.payload["ref"] in {n.pk for n in created}
    assert sms.available_at == datetime(2026, 3, 2, 10, 0, tzinfo=BJ)  # by day: at once

    notifications.notify([cast.leader_a], title="t", link="/x/")
    assert OutboxMessage.objects.count() == 2  # no mail or SMS unless asked


def test_nothing_is_written_when_the_callers_transaction_fails(cast):
    with pytest.raises(RuntimeError), transaction.atomic():
        notifications.notify([cast.handler_a], title="t", link="/x/", sms=True)
        raise RuntimeError("the business write failed")
    assert not Notification.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.parametrize("link", ["https://evil.example/", "//evil.example/", "appeals/1/", "/\\evil"])
def test_links_must_be_relative_paths(cast, link):
    with pytest.raises(ValueError, match="relative"):
        notifications.notify([cast.handler_a], title="t", link=link)


def test_the_inbox_lists_only_ones_own_newest_first_with_the_unread_count(cast, login):
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=BJ)):
        notifications.notify([cast.handler_a], title="第一条消息", link="/a/")
    with time_machine.travel(datetime(2026, 3, 3, 10, 0, tzinfo=BJ)):
        notifications.notify([cast.handler_a], title="第二条消息", link="/b/")
    notifications.notify([cast.supervisor_a], title="别人的消息", link="/c/")

    response = login(cast.handler_a).get(reverse("core:inbox"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("第二条消息") < page.index("第一条消息")
    assert "别人的消息" not in page
    assert response.context["unread_count"] == 2
    assert "站内消息（2 条未读）" in page

    other = login(cast.supervisor_a).get(reverse("core:inbox"))
    assert "第一条消息" not in other.content.decode() and other.context["unread_count"] == 1


def test_marking_read_one_and_all_and_never_anothers(cast, login):
    mine = notifications.notify([cast.handler_a], title="a", link="/appeals/1/")[0]
    notifications.notify([cast.handler_a], title="b", link="/appeals/2/")
    theirs = notifications.notify([cast.supervisor_a], title="c", link="/appeals/3/")[0]
    client = login(cast.handler_a)

    assert client.get(reverse("core:inbox-read", args=[mine.pk])).status_code == 405  # POST only
    response = client.post(reverse("core:inbox-read", args=[mine.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/appeals/1/"
    mine.refresh_from_db()
    assert mine.read_at is not None

    assert client.post(reverse("core:inbox-read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None

    assert client.post(reverse("core:inbox-read-all")).status_code == 302
    assert notifications.unread_count(cast.handler_a) == 0
    assert notifications.unread_count(cast.supervisor_a) == 1  # marking all marks only one's own


def test_every_logged_in_user_has_an_inbox_and_nobody_else(cast, login, client):
    for user in (cast.ent_user_a1, cast.auditor, cast.outsider):
        assert login(user).get(reverse("core:inbox")).status_code == 200
    response = client.get(reverse("core:inbox"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.post(reverse("core:inbox-read-all")).status_code == 302
