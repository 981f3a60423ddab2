"""Photos of a visit: checked by their content, stored like appeal attachments, one transaction with the
visit and its appeals, served only to those who see the visit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guanjia.appeals import attachments, lifecycle
from guanjia.appeals.models import Appeal
from guanjia.core.errors import ServiceError
from guanjia.core.models import AuditRecord
from guanjia.visits import services
from guanjia.visits.models import Mode, Visit, VisitPhoto

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def store(settings, tmp_path) -> Path:
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    return settings.ATTACHMENTS_DIR


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.glob("??/??/*") if p.is_file()]


def photo(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def _form(**extra):
    data = {
        "visited_on": services.today().isoformat(),
        "mode": Mode.ONSITE,
        "our_side": "张管家",
        "their_side": "王经理",
        "summary": "了解经营情况",
        "problems-TOTAL_FORMS": "1",
        "problems-INITIAL_FORMS": "0",
        "problems-0-title": "",
        "problems-0-body": "",
    }
    data.update(extra)
    return data


def test_photos_from_the_form_are_stored_and_shown_to_those_who_see_the_visit(cast, login, store):
    client = login(cast.steward_a)
    form = client.get(f"/visits/new/{cast.ent_a1.pk}/").content.decode()
    assert 'enctype="multipart/form-data"' in form
    assert 'accept="image/*"' in form and 'capture="environment"' in form and "multiple" in form
    response = client.post(
        f"/visits/new/{cast.ent_a1.pk}/",
        _form(photos=[photo("车间.jpg", JPEG), photo("门牌.png", PNG)]),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    visit = Visit.objects.get()
    photos = list(VisitPhoto.objects.filter(visit=visit).order_by("pk"))
    assert [(p.name, p.content_type) for p in photos] == [
        ("车间.jpg", "image/jpeg"),
        ("门牌.png", "image/png"),
    ]
    assert len(stored_files(store)) == 2
    page = client.get(f"/visits/{visit.pk}/").content.decode()
    assert f'src="/visits/photos/{photos[0].pk}/"' in page
    shown = client.get(f"/visits/photos/{photos[0].pk}/")
    assert shown.status_code == 200 and b"".join(shown.streaming_content) == JPEG
    assert shown["Content-Type"] == "image/jpeg" and shown["Content-Disposition"].startswith("inline;")
    assert shown["X-Content-Type-Options"] == "nosniff"
    # Shown inline on the page: not audited; downloaded (page or API): audited, like an attachment.
    assert not AuditRecord.objects.filter(action="visit.photo_download").exists()
    assert client.get(f"/visits/photos/{photos[0].pk}/?download=1")["Content-Disposition"].startswith(
        "attachment;"
    )
    record = AuditRecord.objects.get(action="visit.photo_download")
    assert (record.actor_id, record.object_id) == (cast.steward_a.pk, str(photos[0].pk))
    assert record.detail["sha256"] == photos[0].sha256
    assert login(cast.supervisor_a).get(f"/visits/photos/{photos[1].pk}/").status_code == 200
    # Another zone's staff, another steward, the enterprise user: not theirs.
    assert login(cast.steward_b).get(f"/visits/photos/{photos[0].pk}/").status_code == 404
    assert login(cast.steward_a2).get(f"/visits/photos/{photos[0].pk}/").status_code == 404
    assert login(cast.ent_user_a1).get(f"/visits/photos/{photos[0].pk}/").status_code == 403
    # The API lists them with a download address, which checks the visit's scope too.
    body = client.get(f"/api/visits/{visit.pk}/").json()
    assert [p["name"] for p in body["photos"]] == ["车间.jpg", "门牌.png"]
    url = body["photos"][0]["url"]
    assert url == f"/api/visits/{visit.pk}/photos/{photos[0].pk}/"
    assert client.get(url).status_code == 200
    assert AuditRecord.objects.filter(action="visit.photo_download").count() == 2
    assert login(cast.steward_b).get(url).status_code == 404
    assert AuditRecord.objects.filter(action="visit.photo_download").count() == 2


def test_a_file_that_is_not_a_photo_refuses_the_visit_naming_it(cast, login, store):
    response = login(cast.steward_a).post(
        f"/visits/new/{cast.ent_a1.pk}/",
        _form(photos=[photo("好.jpg", JPEG), photo("报告.pdf", b"%PDF-1.4\n%%EOF\n")]),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "“报告.pdf”不是照片" in html
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()
    assert stored_files(store) == [] and list((store / "tmp").iterdir()) == []
    response = login(cast.steward_a).post(
        f"/visits/new/{cast.ent_a1.pk}/", _form(photos=[photo("x.jpg", b"MZ\x90\x00 program")])
    )
    assert "不是允许上传的文件类型" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_failing_appeal_removes_the_stored_photos(cast, store, monkeypatch):
    def fails(*args, **kwargs):
        raise ServiceError("boom")

    monkeypatch.setattr(lifecycle, "submit_appeal", fails)
    with pytest.raises(ServiceError, match="第 1 项诉求"):
        services.record_visit(
            cast.ent_a1,
            by=cast.steward_a,
            visited_on=services.today(),
            mode=Mode.ONSITE,
            our_side="a",
            their_side="b",
            summary="c",
            problems=[services.Problem("一", "一")],
            photos=[photo("a.jpg", JPEG)],
        )
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists() and not Appeal.objects.exists()
    assert stored_files(store) == []


def test_too_many_photos_are_refused(cast):
    with pytest.raises(ServiceError, match="最多上传"):
        services.record_visit(
            cast.ent_a1,
            by=cast.steward_a,
            visited_on=services.today(),
            mode=Mode.ONSITE,
            our_side="a",
            their_side="b",
            summary="c",
            photos=[photo(f"{n}.jpg", JPEG) for n in range(services.MAX_PHOTOS + 1)],
        )
    assert not Visit.objects.exists()


def test_the_orphan_sweep_keeps_visit_photos(cast, store):
    services.record_visit(
        cast.ent_a1,
        by=cast.steward_a,
        visited_on=services.today(),
        mode=Mode.ONSITE,
        our_side="a",
        their_side="b",
        summary="c",
        photos=[photo("a.jpg", JPEG)],
    )
    assert attachments.remove_orphans(timezone.now() + timedelta(days=2)) == 0
    assert len(stored_files(store)) == 1
