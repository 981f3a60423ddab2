import pytest
from django.urls import reverse

from guanjia.core import services
from guanjia.core.errors import NotAllowed, ServiceError
from guanjia.core.models import AuditRecord, OrgUnit


def test_system_admin_builds_the_tree(cast, login):
    client = login(cast.sysadmin)
    page = client.get(reverse("core:units")).content.decode()
    assert "高新区企业服务中心" in page and "受理调度中心" in page
    response = client.post(
        reverse("core:units"),
        {"name": "高新区税务局", "code": "zone-a-tax", "kind": "department", "parent": cast.zone_a.pk},
    )
    assert response.status_code == 302
    unit = OrgUnit.objects.get(code="zone-a-tax")
    assert unit.parent == cast.zone_a and unit.zone == cast.zone_a
    assert AuditRecord.objects.filter(action="unit.create", object_id=str(unit.pk)).exists()
    client.post(
        reverse("core:unit-edit", args=[unit.pk]),
        {"name": "高新区税务分局", "code": "zone-a-tax", "kind": "department", "parent": cast.zone_a.pk},
    )
    assert OrgUnit.objects.get(pk=unit.pk).name == "高新区税务分局"


def test_tree_shape_is_enforced(cast):
    with pytest.raises(ServiceError, match="上级必须是县区/园区"):
        services.save_unit(
            name="错挂部门",
            code="bad",
            kind="department",
            parent=cast.city,
            is_dispatch_desk=False,
            by=cast.sysadmin,
        )
    with pytest.raises(ServiceError, match="只有部门"):
        services.save_unit(
            name="园区", code="z3", kind="zone", parent=cast.city, is_dispatch_desk=True, by=cast.sysadmin
        )
    with pytest.raises(ServiceError, match="已被使用"):
        services.save_unit(
            name="重复",
            code="zone-a",
            kind="zone",
            parent=cast.city,
            is_dispatch_desk=False,
            by=cast.sysadmin,
        )


def test_only_the_system_admin_edits_the_tree(cast, login):
    for who in ("secadmin", "auditor", "leader_city", "dispatcher_a"):
        assert login(getattr(cast, who)).get(reverse("core:units")).status_code == 403, who
    with pytest.raises(NotAllowed):
        services.save_unit(
            name="x", code="x", kind="zone", parent=cast.city, is_dispatch_desk=False, by=cast.leader_city
        )
