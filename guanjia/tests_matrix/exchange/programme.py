"""Permission-matrix rows of the exchange app: programme (see __init__.py for the shape).

Pairings and secondments: zone A's supervisor keeps them, its leader reads them, the cadre mx_cadre_a reads
its own secondment and its pairing (everyone else 403: no other actor holds one of these roles). The
cadre writes the notes, activities and sourced leads of its secondment; zone A's promoter reads the
sourced leads and takes or declines them. The 404s of another zone's supervisor and of another cadre
are in guanjia/exchange/tests (no such actor here).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from guanjia.core.models import User
from guanjia.exchange import programme, sourcing
from guanjia.exchange.access import today
from guanjia.exchange.models import SecondmentKind
from guanjia.tests_matrix.matrix import (
    CADRE,
    DELETE,
    FORBIDDEN,
    GET,
    LEADER,
    PATCH,
    POST,
    PROMOTER,
    SUP,
    R,
    Row,
    post_only,
)

READERS = [SUP, LEADER, CADRE]
SOURCED_READERS = [*READERS, PROMOTER]
KEEPERS = [SUP]
CADRES = [CADRE]
DECIDERS = [PROMOTER]


def _pages() -> list[Row]:
    rows = [
        R(
            "exchange:index",
            GET,
            default=FORBIDDEN,
            ok=SOURCED_READERS,
            note="a cadre is sent to its own secondments, a promoter to the sourced leads",
        ),
        R("exchange:mine", GET, default=FORBIDDEN, ok=CADRES),
        R("exchange:pairing-new", GET, default=FORBIDDEN, ok=KEEPERS),
        R("exchange:pairing-new", POST, body="prog_pairing_new", default=FORBIDDEN, ok=KEEPERS),
        R("exchange:pairing", GET, "prog_pairing", default=FORBIDDEN, ok=READERS),
        R("exchange:pairing-edit", GET, "prog_pairing", default=FORBIDDEN, ok=KEEPERS),
        R(
            "exchange:pairing-edit",
            POST,
            "prog_pairing",
            body="prog_pairing_edit",
            default=FORBIDDEN,
            ok=KEEPERS,
        ),
        R("exchange:secondment-new", GET, default=FORBIDDEN, ok=KEEPERS),
        R("exchange:secondment-new", POST, body="prog_secondment_new", default=FORBIDDEN, ok=KEEPERS),
        R("exchange:secondment", GET, "prog_secondment", default=FORBIDDEN, ok=READERS),
        R("exchange:secondment-edit", GET, "prog_secondment", default=FORBIDDEN, ok=KEEPERS),
        R(
            "exchange:secondment-edit",
            POST,
            "prog_secondment",
            body="prog_secondment_edit",
            default=FORBIDDEN,
            ok=KEEPERS,
        ),
        R("exchange:sourced-leads", GET, default=FORBIDDEN, ok=SOURCED_READERS, note="a scoped list"),
        R("exchange:sourced-lead", GET, "prog_sourced", default=FORBIDDEN, ok=SOURCED_READERS),
    ]
    # The cadre's forms: on its secondment (new) and on its rows (edit).
    for name, target, body in (
        ("exchange:note-new", "prog_secondment", "prog_note"),
        ("exchange:note-edit", "prog_note", "prog_note_edit"),
        ("exchange:activity-new", "prog_secondment", "prog_activity"),
        ("exchange:activity-edit", "prog_activity", "prog_activity_edit"),
        ("exchange:sourced-lead-new", "prog_secondment", "prog_sourced_new"),
        ("exchange:sourced-lead-edit", "prog_sourced", "prog_sourced_edit"),
    ):
        rows.append(R(name, GET, target, default=FORBIDDEN, ok=CADRES))
        rows.append(R(name, POST, target, body=body, default=FORBIDDEN, ok=CADRES))
    for name, target, body, allowed in (
        ("exchange:note-delete", "prog_note", "prog_note_version", CADRES),
        ("exchange:activity-delete", "prog_activity", "prog_activity_version", CADRES),
        ("exchange:sourced-lead-take", "prog_sourced", "prog_take", DECIDERS),
        ("exchange:sourced-lead-decline", "prog_sourced", "prog_decline", DECIDERS),
    ):
        rows.append(post_only(name, target))
        rows.append(R(name, POST, target, body=body, default=FORBIDDEN, ok=allowed))
    return rows


def _api() -> list[Row]:
    return [
        R("pairing-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
        R("pairing-list", POST, body="api:prog_pairing", default=FORBIDDEN, ok=KEEPERS),
        R("pairing-detail", GET, "prog_pairing", default=FORBIDDEN, ok=READERS),
        R(
            "pairing-detail",
            PATCH,
            "prog_pairing",
            body="api:prog_pairing_patch",
            default=FORBIDDEN,
            ok=KEEPERS,
        ),
        R("secondment-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
        R("secondment-list", POST, body="api:prog_secondment", default=FORBIDDEN, ok=KEEPERS),
        R("secondment-detail", GET, "prog_secondment", default=FORBIDDEN, ok=READERS),
        R(
            "secondment-detail",
            PATCH,
            "prog_secondment",
            body="api:prog_secondment_patch",
            default=FORBIDDEN,
            ok=KEEPERS,
        ),
        R("learning-note-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
        R("learning-note-list", POST, body="api:prog_note", default=FORBIDDEN, ok=CADRES),
        R("learning-note-detail", GET, "prog_note", default=FORBIDDEN, ok=READERS),
        R(
            "learning-note-detail",
            PATCH,
            "prog_note",
            body="api:prog_note_patch",
            default=FORBIDDEN,
            ok=CADRES,
        ),
        R("learning-note-detail", DELETE, "prog_note", default=FORBIDDEN, ok=CADRES),
        R("liaison-activity-list", GET, default=FORBIDDEN, ok=READERS, note="a scoped list"),
        R("liaison-activity-list", POST, body="api:prog_activity", default=FORBIDDEN, ok=CADRES),
        R("liaison-activity-detail", GET, "prog_activity", default=FORBIDDEN, ok=READERS),
        R(
            "liaison-activity-detail",
            PATCH,
            "prog_activity",
            body="api:prog_activity_patch",
            default=FORBIDDEN,
            ok=CADRES,
        ),
        R("liaison-activity-detail", DELETE, "prog_activity", default=FORBIDDEN, ok=CADRES),
        R("sourced-lead-list", GET, default=FORBIDDEN, ok=SOURCED_READERS, note="a scoped list"),
        R("sourced-lead-list", POST, body="api:prog_sourced", default=FORBIDDEN, ok=CADRES),
        R("sourced-lead-detail", GET, "prog_sourced", default=FORBIDDEN, ok=SOURCED_READERS),
        R(
            "sourced-lead-detail",
            PATCH,
            "prog_sourced",
            body="api:prog_sourced_patch",
            default=FORBIDDEN,
            ok=CADRES,
        ),
        R("sourced-lead-take", POST, "prog_sourced", body="api:prog_take", default=FORBIDDEN, ok=DECIDERS),
        R(
            "sourced-lead-decline",
            POST,
            "prog_sourced",
            body="api:prog_decline",
            default=FORBIDDEN,
            ok=DECIDERS,
        ),
    ]


ROWS: list[Row] = [*_pages(), *_api()]


def build(cast: Any, objects: dict[str, Any]) -> None:
    """A pairing of zone A (since 90 days ago), mx_cadre_a seconded on it from 30 days ago for half a
    year, with a note, an activity and a sourced lead waiting for a promoter."""
    cadre = User.objects.get(username="mx_cadre_a")
    day = today()
    pairing = programme.create_pairing(
        local_unit=cast.zone_a,
        by=cast.supervisor_a,
        partner_unit="矩阵结对园区",
        partner_city="苏州市",
        partner_province="江苏省",
        started_on=day - timedelta(days=90),
        focus="产业链招商",
    )
    secondment = programme.create_secondment(
        pairing=pairing,
        cadre=cadre,
        by=cast.supervisor_a,
        host_unit="矩阵结对园区管委会",
        post="招商局副局长",
        starts_on=day - timedelta(days=30),
        ends_on=day + timedelta(days=150),
    )
    note = programme.add_note(
        secondment, by=cadre, title="矩阵见闻", body="企业开办一日办结。", observed_on=day - timedelta(days=2)
    )
    activity = programme.add_activity(
        secondment, by=cadre, title="矩阵对接会", held_on=day - timedelta(days=3), place="苏州"
    )
    sourced = sourcing.submit(
        secondment,
        by=cadre,
        company_name="矩阵储能科技有限公司",
        summary="拟新建储能电池基地。",
        contact_name="李总",
        contact_phone="13912345678",
    )
    objects.update(
        prog_pairing=pairing,
        prog_secondment=secondment,
        prog_note=note,
        prog_activity=activity,
        prog_sourced=sourced,
    )


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    objects = world.objects
    return {
        name: {"pk": objects[name].pk}
        for name in ("prog_pairing", "prog_secondment", "prog_note", "prog_activity", "prog_sourced")
    }


def bodies(world: Any) -> dict[str, Any]:
    cast, objects = world.cast, world.objects
    pairing, secondment = objects["prog_pairing"], objects["prog_secondment"]
    note, activity, sourced = objects["prog_note"], objects["prog_activity"], objects["prog_sourced"]
    cadre = secondment.cadre
    day = today()
    pairing_form = {
        "local_unit": cast.zone_a.pk,
        "partner_unit": "矩阵结对园区",
        "partner_city": "苏州市",
        "partner_province": "江苏省",
        "started_on": pairing.started_on.isoformat(),
        "focus": "产业链招商、营商环境",
    }
    # A later period than the cadre's secondments (its own, and the practices part's), which may not overlap.
    later = {
        "host_unit": "矩阵二期园区",
        "post": "经发局副局长",
        "kind": SecondmentKind.SHADOW,
        "starts_on": (day + timedelta(days=200)).isoformat(),
        "ends_on": (day + timedelta(days=300)).isoformat(),
    }
    secondment_form = {
        "cadre": cadre.pk,
        "host_unit": secondment.host_unit,
        "post": "招商局局长助理",
        "kind": secondment.kind,
        "starts_on": secondment.starts_on.isoformat(),
        "ends_on": secondment.ends_on.isoformat(),
        "tasks": "学习链式招商",
    }
    note_form = {
        "title": "矩阵见闻（二）",
        "body": "拿地即开工。",
        "observed_on": (day - timedelta(days=1)).isoformat(),
    }
    activity_form = {
        "title": "矩阵推介会",
        "held_on": (day - timedelta(days=1)).isoformat(),
        "place": "上海",
        "participants": "矩阵商会",
        "outcome": "结识三家企业",
    }
    sourced_form = {
        "company_name": "矩阵新材料有限公司",
        "industry": "新材料",
        "summary": "拟扩产。",
        "contact_name": "王总",
        "contact_phone": "0512-66881234",
    }
    return {
        "prog_pairing_new": {**pairing_form, "partner_unit": "矩阵新结对园区"},
        "prog_pairing_edit": {**pairing_form, "version": pairing.version},
        "prog_secondment_new": {**later, "pairing": pairing.pk, "cadre": cadre.pk},
        "prog_secondment_edit": {**secondment_form, "version": secondment.version},
        "prog_note": note_form,
        "prog_note_edit": {**note_form, "version": note.version},
        "prog_note_version": {"version": note.version},
        "prog_activity": activity_form,
        "prog_activity_edit": {**activity_form, "version": activity.version},
        "prog_activity_version": {"version": activity.version},
        "prog_sourced_new": sourced_form,
        "prog_sourced_edit": {**sourced_form, "version": sourced.version},
        "prog_take": {"take-owner": cast.promoter_a.pk, "take-version": sourced.version},
        "prog_decline": {"decline-reason": "不符合本园区产业定位", "decline-version": sourced.version},
        "api:prog_pairing": {**pairing_form, "partner_unit": "矩阵API结对园区"},
        "api:prog_pairing_patch": {"focus": "干部交流", "version": pairing.version},
        "api:prog_secondment": {**later, "pairing": pairing.pk, "cadre": cadre.pk},
        "api:prog_secondment_patch": {"post": "招商局局长助理", "version": secondment.version},
        "api:prog_note": {**note_form, "secondment": secondment.pk},
        "api:prog_note_patch": {"title": "矩阵见闻（修订）", "version": note.version},
        "api:prog_activity": {**activity_form, "secondment": secondment.pk},
        "api:prog_activity_patch": {"outcome": "签约一家", "version": activity.version},
        "api:prog_sourced": {**sourced_form, "secondment": secondment.pk},
        "api:prog_sourced_patch": {"industry": "储能", "version": sourced.version},
        "api:prog_take": {"version": sourced.version},
        "api:prog_decline": {"reason": "不符合本园区产业定位", "version": sourced.version},
    }
