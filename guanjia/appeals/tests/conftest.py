"""Fixtures the appeal tests share: the default categories and the cast routed for appeals."""

import pytest

from guanjia.appeals import services
from guanjia.appeals.defaults import ensure_default_categories
from guanjia.appeals.models import AppealCategory
from guanjia.core.roles import Role
from guanjia.testing import make_user


@pytest.fixture
def land(db) -> AppealCategory:
    return ensure_default_categories()["land"]


@pytest.fixture
def routed(cast, land):
    """The cast, with 用地规划 routed to 高新区市场监管局 in zone A, and three more people:

    cast.head_a          department head of that department
    cast.handler_centre  a handler of the wrong department (zone A's service centre)
    cast.dispatcher_b    zone B's dispatcher
    """
    services.set_route(land, cast.zone_a, cast.market_a, by=None)
    cast.head_a = make_user("head_a", cast.market_a, Role.DEPARTMENT_HEAD)
    cast.handler_centre = make_user("handler_centre", cast.centre_a, Role.HANDLER)
    cast.dispatcher_b = make_user("dispatcher_b", cast.centre_b, Role.DISPATCHER)
    return cast
