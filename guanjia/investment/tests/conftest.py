import pytest

from guanjia.investment.tests.helpers import make_promoter


@pytest.fixture
def promoter_b(cast):
    """招商专员 of zone B: sees nothing of zone A's investment data."""
    return make_promoter("promoter_b", cast.zone_b)
