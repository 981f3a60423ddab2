"""Reports how many requests the API fuzz test sent, per role and in all (shown even under -q)."""

from __future__ import annotations

from typing import Any

from guanjia.tests_fuzz.world import REQUESTS


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if not REQUESTS:
        return
    per_role = ", ".join(f"{role} {count}" for role, count in sorted(REQUESTS.items()))
    terminalreporter.write_line(f"API fuzz: {sum(REQUESTS.values())} requests ({per_role})")
