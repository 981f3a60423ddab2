"""A talent scene on top of the named cast (guanjia/testing.py), shared by the talent tests.

Zone A routes 人才认定 to its 人力资源和社会保障局 (hr_a: talent_handler, talent_head) and every service
to 高新区市场监管局 (market_a: cast.handler_a), with the default 5 working days. Tiers A–E are set by
zone A's leader. `approved` is an approved talent of ent_a1, `submitted` one still waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from guanjia.core.models import OrgUnit, User
from guanjia.core.roles import Role
from guanjia.talent import services
from guanjia.talent.models import RouteKind, TalentApplication, TalentTier
from guanjia.testing import Cast, make_user

# Valid resident ID numbers (GB 11643 check characters).
ID_1 = "11010519491231002X"
ID_2 = "320582198503124017"
ID_3 = "320582199007182028"
BAD_ID = "320582198503124016"  # its check character should be 7
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name: str = "学位证书.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@dataclass
class Scene:
    cast: Cast
    hr_a: OrgUnit
    talent_handler: User
    talent_head: User
    tiers: dict[str, TalentTier]
    approved: TalentApplication
    submitted: TalentApplication


def build_scene(cast: Cast) -> Scene:
    hr_a = OrgUnit.objects.create(
        name="高新区人力资源和社会保障局", code="zone-a-hr", kind=OrgUnit.Kind.DEPARTMENT, parent=cast.zone_a
    )
    talent_handler = make_user("talent_handler", hr_a, Role.HANDLER, phone="13900000021")
    talent_head = make_user("talent_head", hr_a, Role.DEPARTMENT_HEAD)
    leader = cast.leader_a
    tiers = {
        code: services.save_tier(cast.zone_a, by=leader, code=code, name=name, position=position)
        for position, (code, name) in enumerate(
            (("A", "顶尖人才"), ("B", "领军人才"), ("C", "拔尖人才"), ("D", "骨干人才"), ("E", "基础人才")), 1
        )
    }
    services.set_route(cast.zone_a, kind=RouteKind.RECOGNITION, department=hr_a, by=leader)
    for kind in (RouteKind.HOUSING, RouteKind.SCHOOLING, RouteKind.MEDICAL, RouteKind.SETTLEMENT):
        services.set_route(cast.zone_a, kind=kind, department=cast.market_a, by=leader)
    approved = services.submit_application(
        cast.ent_a1,
        by=cast.ent_user_a1,
        person_name="张博文",
        id_number=ID_1,
        phone="13951230001",
        tier=tiers["B"],
    )
    services.decide_application(approved, by=talent_handler, approve=True)
    submitted = services.submit_application(
        cast.ent_a1,
        by=cast.steward_a,
        person_name="李明哲",
        id_number=ID_2,
        phone="13951230002",
        tier=tiers["C"],
    )
    return Scene(cast, hr_a, talent_handler, talent_head, tiers, approved, submitted)
