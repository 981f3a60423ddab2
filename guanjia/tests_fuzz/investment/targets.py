"""API fuzz positive cases of the investment app: targets."""

from __future__ import annotations

from guanjia.core.models import User
from guanjia.investment import targets as target_services
from guanjia.investment.access import zones_of
from guanjia.tests_fuzz.world import Positive

IMPORT_CSV = (
    "企业名称,统一社会信用代码,企业规模,是否上市,股票代码\n模糊测试导入目标企业,,大型,是,300750.SZ\n".encode()
)


def positives(users: dict[str, User]) -> list[Positive]:
    """One request per operation of this part that must answer 2xx (users: world.ROLE_USERS's accounts)."""
    promoter = users["promoter"]
    zone = zones_of(promoter).first()
    assert zone is not None, promoter
    kept = target_services.create_target(
        zone=zone, by=promoter, name="模糊测试目标企业", headquarters="上海市"
    )
    spare = target_services.create_target(zone=zone, by=promoter, name="模糊测试待删目标企业")
    return [
        Positive("GET /api/investment/targets/", "leader", query={"q": "模糊测试", "scale": "medium"}),
        Positive("GET /api/investment/targets/{id}/", "leader", {"id": kept.pk}),
        Positive(
            "POST /api/investment/targets/",
            "promoter",
            body={
                "name": "模糊测试新增目标企业",
                "scale": "large",
                "listed": True,
                "stock_code": "688001.SH",
                "zone": zone.pk,
            },
        ),
        Positive(
            "PATCH /api/investment/targets/{id}/",
            "promoter",
            {"id": kept.pk},
            body={"headquarters": "江苏省苏州市", "version": kept.version},
        ),
        Positive("DELETE /api/investment/targets/{id}/", "promoter", {"id": spare.pk}),
        Positive(
            "POST /api/investment/targets/import/",
            "promoter",
            body={"file": IMPORT_CSV, "zone": zone.pk},
            media_type="multipart/form-data",
        ),
    ]
