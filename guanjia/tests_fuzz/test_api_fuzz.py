"""Schemathesis against the committed schema (docs/openapi.yaml), in-process, on the demo area.

For every operation: a positive case (world.py) that must answer 2xx, then generated cases
(valid and invalid data, schemathesis's positive and negative modes) as each role in
world.ROLE_USERS, with path parameters drawn partly from the ids that role may see. Every answer
must be no 5xx and conform to the schema (status code, content type, headers, body), and invalid
data must be refused (4xx). The test fails listing each problem once (with a curl command to
reproduce it) and each operation that never answered 2xx.
"""

from __future__ import annotations

import logging
import random
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from guanjia.tests_fuzz.world import REQUESTS, ROLE_OF, ROLE_USERS, Positive, World, build_world, stable_seed

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Generated cases per operation and role: 9 roles × 45 operations × 4 cases ≈ 1,600 requests, which
# run in about two minutes on a 2-core machine.
EXAMPLES = {GenerationMode.POSITIVE: 2, GenerationMode.NEGATIVE: 2}
# Share of valid generated cases whose path ids are replaced by real ones the role may see.
SEEDED_SHARE = 0.7


@dataclass
class Problem:
    label: str
    role: str
    message: str


@dataclass
class Fuzzer:
    app: Any
    world: World
    server_errors: list[str]
    problems: dict[tuple[str, str], Problem] = field(default_factory=dict)
    succeeded: set[str] = field(default_factory=set)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.world.tokens[role]}"}

    def send(self, case: Any, role: str) -> Any:
        REQUESTS[ROLE_OF[role]] += 1
        response = case.call(app=self.app, headers=self.headers(role))
        if 200 <= response.status_code < 300:
            self.succeeded.add(case.operation.label)
        return response

    def check(self, case: Any, response: Any, role: str) -> None:
        try:
            case.validate_response(response, checks=CHECKS, headers=self.headers(role))
        except (AssertionError, BaseExceptionGroup) as exc:
            self.note(case.operation.label, role, str(exc))

    def note(self, label: str, role: str, message: str) -> None:
        # One problem per operation and kind of failure (the text's first line after the header).
        lines = [line.strip() for line in message.splitlines() if line.strip().startswith("- ")]
        kind = lines[0] if lines else message.splitlines()[0] if message else "?"
        self.problems.setdefault((label, kind), Problem(label, role, message))

    def positive(self, operation: Any, positive: Positive) -> None:
        kwargs: dict[str, Any] = {"path_parameters": positive.path_parameters, "query": positive.query}
        if positive.body is not None:
            kwargs["body"] = positive.body
            kwargs["media_type"] = positive.media_type or "application/json"
        case = operation.Case(**kwargs)
        response = self.send(case, positive.role)
        self.check(case, response, positive.role)
        if not 200 <= response.status_code < 300:
            self.note(
                positive.label,
                positive.role,
                f"- positive case answered {response.status_code}: {response.text[:300]}\n"
                f"{case.as_curl_command(headers=self.headers(positive.role))}",
            )

    def fuzz(self, operation: Any, role: str, mode: GenerationMode) -> None:
        pools = self.world.seeds.get(role, {})
        rng = random.Random(stable_seed(operation.label, role, mode.value, "ids"))

        @seed(stable_seed(operation.label, role, mode.value))
        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode))
        def run(case: Any) -> None:
            # Invalid cases keep their invalid ids: replacing them would make the case valid.
            if mode is GenerationMode.POSITIVE and rng.random() < SEEDED_SHARE:
                for name in case.path_parameters or {}:
                    pool = pools.get(_pool_name(operation.path, name)) or pools.get("missing")
                    if pool:
                        case.path_parameters[name] = rng.choice(pool)
            response = self.send(case, role)
            self.check(case, response, role)

        try:
            run()
        except Unsatisfiable:
            # Nothing invalid to send: an operation without parameters or body has no negative case.
            assert mode is GenerationMode.NEGATIVE, operation.label

    def report(self, labels: list[str]) -> list[str]:
        lines = [f"[{p.role}] {p.label}\n{p.message}" for p in self.problems.values()]
        lines += [f"5xx traceback:\n{tb}" for tb in dict.fromkeys(self.server_errors)]
        missing = [label for label in labels if label not in self.succeeded]
        if missing:
            lines.append("operations that never answered 2xx:\n  " + "\n  ".join(missing))
        return lines


def _pool_name(path: str, parameter: str) -> str:
    if parameter != "id":
        return parameter
    for prefix, pool in (
        ("/api/appeals/", "appeal"),
        ("/api/enterprises/", "enterprise"),
        ("/api/appeal-categories/", "category"),
        ("/api/department-webhooks/", "webhook"),
        ("/api/visits/", "visit"),
        ("/api/visit-plans/", "visit_plan"),
    ):
        if path.startswith(prefix):
            return pool
    return "missing"


@pytest.fixture
def in_process() -> Iterator[list[str]]:
    """Requests served in the test's own transaction; the tracebacks of any 5xx."""
    # Django closes the connection at the end of each request, which inside the test's transaction
    # would throw the test data away (its test client disconnects the same handlers).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    errors: list[str] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        errors.append(traceback.format_exc())

    got_request_exception.connect(record, weak=False)
    # Thousands of expected 4xx would each log a warning.
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield errors
    finally:
        logger.setLevel(level)
        got_request_exception.disconnect(record)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_api_conforms_to_schema_under_fuzzing(db, settings, tmp_path, in_process):
    settings.ATTACHMENTS_DIR = tmp_path / "attachments"
    world = build_world()
    schema = schemathesis.openapi.from_path(SCHEMA)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # an operation schemathesis cannot read
        operations.append(result.ok())
    by_label = {operation.label: operation for operation in operations}
    fuzzer = Fuzzer(app=WSGIHandler(), world=world, server_errors=in_process)

    unknown = [p.label for p in world.positives if p.label not in by_label]
    assert not unknown, f"positive cases for operations the schema does not have: {unknown}"
    for positive in world.positives:
        fuzzer.positive(by_label[positive.label], positive)
    for operation in operations:
        for role in ROLE_USERS:
            for mode in EXAMPLES:
                fuzzer.fuzz(operation, role, mode)

    problems = fuzzer.report(list(by_label))
    assert not problems, f"{len(problems)} problems:\n\n" + "\n\n".join(problems)
