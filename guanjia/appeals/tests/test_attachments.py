"""Appeal attachments: judged by content, stored outside the web root under random keys, all or
nothing, and handed out only to those who see the appeal — on the pages and through the API."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanjia.appeals import attachments, lifecycle
from guanjia.appeals.models import Appeal, AppealEvent, Attachment, Channel
from guanjia.core.errors import NotAllowed
from guanjia.core.models import AuditRecord
from guanjia.core.roles import Role
from guanjia.enterprises.models import EnterpriseMembership
from guanjia.enterprises.tests.test_api import assert_matches_schema, openapi  # noqa: F401 - a fixture
from guanjia.testing import make_user

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(50) + b"This program cannot be run in DOS mode.\r\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(40)
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n'
SCRIPT = b"#!/bin/sh\nrm -rf /\n"
TEXT = "关于二期厂房容积率调整的情况说明\n面积：12000 平方米\n".encode()


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


DOCX = _zip("[Content_Types].xml", "_rels/.rels", "word/document.xml")
XLSX = _zip("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml")
PPTX = _zip("[Content_Types].xml", "ppt/presentation.xml")
DOCM = _zip("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin")
OFD = _zip("OFD.xml", "Doc_0/Document.xml")
ZIP = _zip("readme.txt", "setup.exe")


def _ole(stream: str) -> bytes:
    """A minimal OLE compound file ([MS-CFB], 512-byte sectors) whose root holds one stream."""
    end, free, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))
    fat = struct.pack("<128I", 0xFFFFFFFD, end, end, *([free] * 125))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        raw[: len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 0x40, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 0x44, nostream, nostream, child)
        struct.pack_into("<IQ", raw, 0x74, start, size)
        return bytes(raw)

    directory = entry("Root Entry", 5, 1, end, 0) + entry(stream, 2, nostream, 2, 512) + bytes(256)
    return bytes(header) + fat + directory + b"\x00" * 512


DOC = _ole("WordDocument")
XLS = _ole("Workbook")
MSI = _ole("\u4840\u3b3f\u4577\u446c")  # an installer's stream: the same container, not a document


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    # The browser's content type is deliberately wrong or generic in most tests: it is not believed.
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture(autouse=True)
def store(settings, tmp_path) -> Path:
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    return settings.ATTACHMENTS_DIR


@pytest.fixture
def appeal(routed, land) -> Appeal:
    """ent_a1's appeal, dispatched to 市场监管局 (handler_a, head_a); plus people who must not reach it:
    ent_user_a2 (another enterprise), steward_a2 (another enterprise's steward), handler_centre
    (a department that never had it), dispatcher_b (another zone), the outsider."""
    cast = routed
    cast.ent_user_a2 = make_user("ent_user_a2", None, Role.ENTERPRISE_USER)
    EnterpriseMembership.objects.create(user=cast.ent_user_a2, enterprise=cast.ent_a2)
    appeal = lifecycle.submit_appeal(
        cast.ent_a1,
        title="二期厂房容积率调整",
        body="想了解提高容积率的程序。",
        channel=Channel.PORTAL,
        by=cast.ent_user_a1,
        category=land,
    )
    lifecycle.dispatch_appeal(appeal, by=cast.dispatcher_a)
    return appeal


def attach(appeal: Appeal, by, *files: SimpleUploadedFile) -> list[Attachment]:
    return attachments.add_attachments(appeal, list(files), by=by)


# --- content, not name ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("说明.pdf", PDF, "application/pdf"),
        ("现场.png", PNG, "image/png"),
        ("现场.jpg", JPEG, "image/jpeg"),
        ("动图.gif", GIF, "image/gif"),
        ("照片.webp", WEBP, "image/webp"),
        ("申请书.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("台账.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("汇报.pptx", PPTX, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("旧申请书.doc", DOC, "application/msword"),
        ("旧台账.xls", XLS, "application/vnd.ms-excel"),
        ("电子发票.ofd", OFD, "application/ofd"),
        ("说明.txt", TEXT, "text/plain; charset=utf-8"),
        ("说明.txt", "国标编码的说明文字".encode("gb18030"), "text/plain; charset=gb18030"),
    ],
)
def test_allowed_types_are_recognised_by_content(appeal, routed, name, content, content_type):
    (row,) = attach(appeal, routed.ent_user_a1, upload(name, content, "application/octet-stream"))
    assert row.content_type == content_type
    assert row.name == name
    assert row.size == len(content)
    assert row.sha256 == hashlib.sha256(content).hexdigest()


def test_a_pdf_renamed_exe_is_taken_as_pdf_and_named_so(appeal, routed):
    (row,) = attach(appeal, routed.ent_user_a1, upload("发票.exe", PDF, "application/x-msdownload"))
    assert row.content_type == "application/pdf"
    # A saved copy must open as what it is, never run as a program.
    assert row.name == "发票.exe.pdf"


def test_text_named_as_a_script_gets_a_text_extension(appeal, routed):
    (row,) = attach(appeal, routed.ent_user_a1, upload("run.bat", b"echo hello\r\n", "text/plain"))
    assert row.content_type.startswith("text/plain")
    assert row.name == "run.bat.txt"


def test_names_lose_paths_and_control_characters_and_fit_the_column():
    assert attachments.clean_name("C:\\fakepath\\说明.pdf", attachments.PDF) == "说明.pdf"
    assert attachments.clean_name("说\x00明\n.pdf", attachments.PDF) == "说明.pdf"
    assert attachments.clean_name("发票\u202efdp.exe", attachments.PDF) == "发票fdp.exe.pdf"
    long = attachments.clean_name("长" * 300 + ".docx", attachments.DOCX)
    assert len(long) == 200 and long.endswith(".docx")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("合同.pdf", EXE),
        ("合同.pdf", ELF),
        ("合同.pdf", HTML),
        ("合同.pdf", SVG),
        ("图纸.svg", SVG),
        ("说明.txt", SCRIPT),
        ("说明.txt", b"see <script>alert(1)</script>"),
        ("材料.docx", ZIP),
        ("材料.docm", DOCM),
        ("旧申请书.doc", MSI),
        ("合同.pdf", b"\x00\x01\x02binary\x00\xff\xfe"),
        ("损坏.docx", b"PK\x03\x04broken zip"),
    ],
)
def test_other_content_is_refused_naming_the_file(appeal, routed, store, name, content):
    with pytest.raises(attachments.AttachmentRefused, match=f"“{name}”"):
        attach(appeal, routed.ent_user_a1, upload(name, content))
    assert not Attachment.objects.exists()
    assert stored_files(store) == []


def test_an_empty_file_is_refused_by_name(appeal, routed):
    with pytest.raises(attachments.AttachmentRefused, match="“空.pdf”是空文件"):
        attach(appeal, routed.ent_user_a1, upload("空.pdf", b""))


def test_an_oversize_file_is_refused_naming_it(appeal, routed, settings, store):
    settings.ATTACHMENT_MAX_BYTES = 1024
    big = PDF + b"%" * 2048
    with pytest.raises(attachments.AttachmentRefused, match="“扫描件.pdf”大小为 .*超过单个附件"):
        attach(appeal, routed.ent_user_a1, upload("扫描件.pdf", big))
    assert stored_files(store) == []


def test_an_oversize_file_that_claims_to_be_small_is_refused_while_it_is_read(
    appeal, routed, settings, store
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    liar = upload("扫描件.pdf", PDF + b"%" * 2048)
    liar.size = 10  # what the client declared
    with pytest.raises(attachments.AttachmentRefused, match="“扫描件.pdf”"):
        attach(appeal, routed.ent_user_a1, liar)
    assert stored_files(store) == []


def test_more_than_ten_files_are_refused(appeal, routed, store):
    files = [upload(f"第{i}页.pdf", PDF) for i in range(11)]
    with pytest.raises(attachments.AttachmentRefused, match="一次最多上传 10 个附件，您选择了 11 个"):
        attach(appeal, routed.ent_user_a1, *files)
    assert stored_files(store) == []
    attach(appeal, routed.ent_user_a1, *files[:10])
    assert Attachment.objects.filter(appeal=appeal).count() == 10


# --- storage ----------------------------------------------------------------------------


def test_stored_outside_the_web_root_under_a_random_key(appeal, routed, settings, store):
    (row,) = attach(appeal, routed.ent_user_a1, upload("营业执照副本.pdf", PDF))
    path = attachments.stored_path(row.storage_key)
    assert path.read_bytes() == PDF
    assert path.is_relative_to(store)
    for served in (Path(settings.STATIC_ROOT), Path(settings.MEDIA_ROOT)):
        assert not path.resolve().is_relative_to(served.resolve())
    assert "营业执照" not in str(path) and ".pdf" not in str(path)
    assert path.parent.parent.parent == store  # sharded: <root>/ab/cd/<key>
    assert stored_files(store) == [path]  # no temporary file left behind


def test_the_default_directory_is_outside_static_and_media():
    from django.conf import settings as live

    root = Path(live.ATTACHMENTS_DIR).resolve()
    for served in (Path(live.STATIC_ROOT), Path(live.MEDIA_ROOT)):
        assert not root.is_relative_to(served.resolve())


def test_one_bad_file_refuses_the_whole_upload(appeal, routed, store):
    with pytest.raises(attachments.AttachmentRefused, match="“病毒.pdf”"):
        attach(appeal, routed.ent_user_a1, upload("说明.pdf", PDF), upload("病毒.pdf", EXE))
    assert not Attachment.objects.exists()
    assert not AppealEvent.objects.filter(action="attach").exists()
    assert stored_files(store) == []


def test_a_failed_database_write_leaves_no_file(appeal, routed, store, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(AppealEvent.objects, "create", broken)
    with pytest.raises(RuntimeError):
        attach(appeal, routed.ent_user_a1, upload("说明.pdf", PDF), upload("现场.png", PNG))
    assert not Attachment.objects.exists()
    assert stored_files(store) == []


def test_upload_writes_event_and_audit(appeal, routed):
    rows = attach(appeal, routed.steward_a, upload("说明.pdf", PDF), upload("现场.png", PNG))
    event = AppealEvent.objects.get(appeal=appeal, action="attach")
    assert event.from_status == event.to_status == appeal.status
    assert event.note == "说明.pdf\n现场.png"
    record = AuditRecord.objects.get(action="appeal.attach")
    assert record.actor == routed.steward_a and record.object_id == str(appeal.pk)
    assert [f["sha256"] for f in record.detail["files"]] == [r.sha256 for r in rows]
    appeal.refresh_from_db()
    assert appeal.version == 2  # adding material is not a transition: nobody's page goes stale


# --- who may attach ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ent_user_a1", "steward_a", "dispatcher_a", "handler_a", "head_a"])
def test_those_concerned_may_attach(appeal, routed, who):
    attach(appeal, getattr(routed, who), upload("说明.pdf", PDF))
    assert Attachment.objects.filter(appeal=appeal).count() == 1


@pytest.mark.parametrize(
    "who",
    ["ent_user_a2", "steward_a2", "handler_centre", "dispatcher_b", "supervisor_a", "leader_a", "outsider"],
)
def test_others_may_not_attach(appeal, routed, store, who):
    with pytest.raises(NotAllowed):
        attach(appeal, getattr(routed, who), upload("说明.pdf", PDF))
    assert stored_files(store) == []


def test_a_department_whose_assignment_ended_may_not_attach(appeal, routed):
    lifecycle.return_appeal(appeal, reason="不属于本部门职责", by=routed.handler_a)
    with pytest.raises(NotAllowed):
        attach(appeal, routed.handler_a, upload("说明.pdf", PDF))


def test_a_declined_appeal_takes_files_from_the_dispatcher_only(routed, land):
    appeal = lifecycle.submit_appeal(
        routed.ent_a1, title="咨询", body="内容", channel=Channel.PORTAL, by=routed.ent_user_a1, category=land
    )
    lifecycle.decline_appeal(
        appeal, reason="不属于园区职权", advice="请向市级部门咨询", by=routed.dispatcher_a
    )
    for who in (routed.ent_user_a1, routed.steward_a):
        with pytest.raises(NotAllowed, match="只有本园区的受理员"):
            attach(appeal, who, upload("说明.pdf", PDF))
    attach(appeal, routed.dispatcher_a, upload("回访记录.pdf", PDF))


# --- pages ------------------------------------------------------------------------------------


def page_url(appeal: Appeal, att: Attachment | None = None) -> str:
    return f"/appeals/{appeal.pk}/attachments/" + (f"{att.pk}/" if att else "")


def test_upload_from_the_appeal_page(appeal, routed, login):
    client = login(routed.ent_user_a1)
    response = client.post(
        page_url(appeal), {"attachments": [upload("说明.pdf", PDF), upload("现场.png", PNG)]}
    )
    assert response.status_code == 302
    assert Attachment.objects.filter(appeal=appeal).count() == 2
    page = client.get(f"/appeals/{appeal.pk}/").content.decode()
    assert "说明.pdf" in page and "现场.png" in page
    assert 'enctype="multipart/form-data"' in page


def test_a_refused_page_upload_says_which_file(appeal, routed, login):
    client = login(routed.ent_user_a1)
    response = client.post(
        page_url(appeal), {"attachments": [upload("说明.pdf", PDF), upload("网页.pdf", HTML)]}, follow=True
    )
    assert "“网页.pdf”" in response.content.decode()
    assert not Attachment.objects.exists()


def test_the_page_offers_the_upload_form_only_to_those_who_may_attach(appeal, routed, login):
    assert 'name="attachments"' in login(routed.handler_a).get(f"/appeals/{appeal.pk}/").content.decode()
    assert 'name="attachments"' not in login(routed.leader_a).get(f"/appeals/{appeal.pk}/").content.decode()


@pytest.mark.parametrize("who", ["supervisor_a", "leader_a"])
def test_a_viewer_who_may_not_attach_is_refused_on_the_page(appeal, routed, login, who):
    response = login(getattr(routed, who)).post(page_url(appeal), {"attachments": [upload("a.pdf", PDF)]})
    assert response.status_code == 302
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("who", ["ent_user_a2", "steward_a2", "handler_centre", "dispatcher_b", "outsider"])
def test_upload_out_of_scope_is_404(appeal, routed, login, who):
    response = login(getattr(routed, who)).post(page_url(appeal), {"attachments": [upload("a.pdf", PDF)]})
    assert response.status_code == 404
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    "who", ["ent_user_a1", "steward_a", "dispatcher_a", "handler_a", "head_a", "supervisor_a", "leader_city"]
)
def test_download_by_each_role_that_sees_the_appeal(appeal, routed, login, who):
    (row,) = attach(appeal, routed.ent_user_a1, upload("营业执照副本.pdf", PDF))
    response = login(getattr(routed, who)).get(page_url(appeal, row))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('营业执照副本.pdf')}" in disposition
    assert f'filename="attachment-{row.pk}.pdf"' in disposition
    record = AuditRecord.objects.get(action="appeal.attachment_download")
    assert record.actor == getattr(routed, who) and record.object_id == str(row.pk)


@pytest.mark.parametrize("who", ["ent_user_a2", "steward_a2", "handler_centre", "dispatcher_b", "outsider"])
def test_download_out_of_scope_is_404(appeal, routed, login, who):
    (row,) = attach(appeal, routed.ent_user_a1, upload("营业执照副本.pdf", PDF))
    assert login(getattr(routed, who)).get(page_url(appeal, row)).status_code == 404
    assert not AuditRecord.objects.filter(action="appeal.attachment_download").exists()


def test_an_attachment_is_reached_through_its_own_appeal_only(appeal, routed, login):
    other = lifecycle.submit_appeal(
        routed.ent_a1, title="另一件", body="内容", channel=Channel.PORTAL, by=routed.ent_user_a1
    )
    (row,) = attach(appeal, routed.ent_user_a1, upload("说明.pdf", PDF))
    assert login(routed.ent_user_a1).get(page_url(other, row)).status_code == 404


def test_anonymous_download_goes_to_login(appeal, routed):
    (row,) = attach(appeal, routed.ent_user_a1, upload("说明.pdf", PDF))
    response = Client().get(page_url(appeal, row))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_confidential_appeal_hides_the_enterprise_uploader_from_the_department(routed, land, login):
    appeal = lifecycle.submit_appeal(
        routed.ent_a1,
        title="保密诉求",
        body="内容",
        channel=Channel.PORTAL,
        by=routed.ent_user_a1,
        category=land,
        confidential=True,
    )
    lifecycle.dispatch_appeal(appeal, by=routed.dispatcher_a)
    attach(appeal, routed.ent_user_a1, upload("说明.pdf", PDF))
    department = login(routed.handler_a).get(f"/appeals/{appeal.pk}/").content.decode()
    assert "说明.pdf" in department and "ent_user_a1" not in department
    assert "ent_user_a1" in login(routed.dispatcher_a).get(f"/appeals/{appeal.pk}/").content.decode()


def test_submit_with_files(routed, land, login):
    client = login(routed.ent_user_a1)
    response = client.post(
        f"/appeals/new/{routed.ent_a1.pk}/",
        {
            "category": land.pk,
            "title": "厂房消防验收",
            "body": "请协调消防验收时间。",
            "handling": "normal",
            "attachments": [upload("平面图.pdf", PDF), upload("现场.jpg", JPEG)],
        },
    )
    assert response.status_code == 302, response.content.decode()
    appeal = Appeal.objects.get(title="厂房消防验收")
    assert sorted(appeal.attachments.values_list("name", flat=True)) == ["平面图.pdf", "现场.jpg"]
    assert list(appeal.events.values_list("action", flat=True)) == ["submit", "attach"]


def test_submit_with_a_bad_file_submits_nothing(routed, land, login, store):
    response = login(routed.ent_user_a1).post(
        f"/appeals/new/{routed.ent_a1.pk}/",
        {
            "category": land.pk,
            "title": "厂房消防验收",
            "body": "请协调消防验收时间。",
            "handling": "normal",
            "attachments": [upload("平面图.pdf", PDF), upload("setup.pdf", EXE)],
        },
    )
    assert response.status_code == 200
    assert "“setup.pdf”" in response.content.decode()
    assert not Appeal.objects.exists()
    assert stored_files(store) == []


# --- API ----------------------------------------------------------------------------------------


def api_url(appeal: Appeal, att: Attachment | None = None) -> str:
    return f"/api/appeals/{appeal.pk}/attachments/" + (f"{att.pk}/" if att else "")


def test_api_upload_list_and_download(appeal, routed, login, openapi):  # noqa: F811
    client = login(routed.handler_a)
    response = client.post(api_url(appeal), {"files": [upload("现场核查.pdf", PDF), upload("照片.png", PNG)]})
    assert response.status_code == 201, response.content
    assert [row["name"] for row in response.json()] == ["现场核查.pdf", "照片.png"]
    listed = client.get(api_url(appeal))
    assert listed.status_code == 200
    assert_matches_schema(openapi, "/api/appeals/{id}/attachments/", "get", 200, listed.json())
    first = listed.json()[0]
    assert first["content_type"] == "application/pdf" and first["size"] == len(PDF)
    download = login(routed.ent_user_a1).get(first["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    detail = client.get(f"/api/appeals/{appeal.pk}/")
    assert [a["name"] for a in detail.json()["attachments"]] == ["现场核查.pdf", "照片.png"]
    assert_matches_schema(openapi, "/api/appeals/{id}/", "get", 200, detail.json())


def test_api_refuses_a_bad_file_naming_it(appeal, routed, login, store):
    response = login(routed.ent_user_a1).post(
        api_url(appeal), {"files": [upload("说明.pdf", PDF), upload("图纸.pdf", SVG)]}
    )
    assert response.status_code == 400
    assert "“图纸.pdf”" in response.json()["detail"]
    assert not Attachment.objects.exists() and stored_files(store) == []


def test_api_upload_without_files_is_400(appeal, routed, login):
    response = login(routed.ent_user_a1).post(api_url(appeal), {})
    assert response.status_code == 400
    assert "files" in response.json()


def test_api_upload_by_a_viewer_who_may_not_attach_is_403(appeal, routed, login):
    response = login(routed.supervisor_a).post(api_url(appeal), {"files": [upload("a.pdf", PDF)]})
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["ent_user_a2", "steward_a2", "handler_centre", "outsider"])
def test_api_out_of_scope_is_404(appeal, routed, login, who):
    (row,) = attach(appeal, routed.ent_user_a1, upload("说明.pdf", PDF))
    client = login(getattr(routed, who))
    assert client.get(api_url(appeal)).status_code == 404
    assert client.get(api_url(appeal, row)).status_code == 404
    assert client.post(api_url(appeal), {"files": [upload("a.pdf", PDF)]}).status_code == 404
    assert Attachment.objects.count() == 1


def test_api_create_with_files(routed, land, login):
    response = login(routed.steward_a).post(
        "/api/appeals/",
        {
            "enterprise": routed.ent_a1.pk,
            "title": "用电增容",
            "body": "请协调供电公司。",
            "category": land.pk,
            "files": [upload("用电申请.docx", DOCX)],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [a["name"] for a in body["attachments"]] == ["用电申请.docx"]
    assert body["channel"] == Channel.STEWARD


def test_api_create_with_a_bad_file_creates_nothing(routed, land, login, store):
    response = login(routed.steward_a).post(
        "/api/appeals/",
        {
            "enterprise": routed.ent_a1.pk,
            "title": "用电增容",
            "body": "内容",
            "files": [upload("a.docx", ZIP)],
        },
    )
    assert response.status_code == 400
    assert "“a.docx”" in response.json()["detail"]
    assert not Appeal.objects.exists() and stored_files(store) == []


def test_a_missing_file_is_404_not_a_crash(appeal, routed, login):
    (row,) = attach(appeal, routed.ent_user_a1, upload("说明.pdf", PDF))
    attachments.stored_path(row.storage_key).unlink()
    assert login(routed.ent_user_a1).get(page_url(appeal, row)).status_code == 404


def test_orphaned_files_are_removed_once_a_day_old_and_attachments_are_kept(appeal, routed, store):
    (row,) = attach(appeal, routed.ent_user_a1, upload("营业执照副本.pdf", PDF))
    kept = attachments.stored_path(row.storage_key)
    orphan = attachments.stored_path("ab" * 16)  # moved into place, then its transaction rolled back
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(PDF)
    staging = store / "tmp" / "upload-killed"
    staging.write_bytes(PDF)
    young = attachments.stored_path("cd" * 16)  # an upload still in flight
    young.parent.mkdir(parents=True)
    young.write_bytes(PDF)
    day_old = time.time() - 2 * 24 * 3600
    for path in (kept, orphan, staging):
        os.utime(path, (day_old, day_old))
    assert attachments.remove_orphans() == 2
    assert sorted(stored_files(store)) == sorted([kept, young])
    assert attachments.remove_orphans() == 0
