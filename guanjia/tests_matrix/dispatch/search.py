"""Permission-matrix rows of the dispatch app: the search page (see __init__.py for the shape).

Every business account searches (its hits cut to its own scope, which guanjia/dispatch/tests check);
the 三员 see no business data and get 403 (access.may_search); the anonymous visitor the login page.
"""

from __future__ import annotations

from typing import Any

from guanjia.tests_matrix.matrix import AUD, GET, OK, SEC, SYS, R, Row

ROWS: list[Row] = [
    R("dispatch:search", GET, body="q:dispatch_search", default=OK, forbidden=[SYS, SEC, AUD]),
    R("dispatch:search", GET, default=OK, forbidden=[SYS, SEC, AUD], note="no query: the hint"),
]


def build(cast: Any, objects: dict[str, Any]) -> None:
    pass


def kwargs(world: Any) -> dict[str, dict[str, Any]]:
    return {}


def bodies(world: Any) -> dict[str, Any]:
    return {"q:dispatch_search": {"q": "企业开办 材料"}}
