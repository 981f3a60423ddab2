"""Worker processes that a test kills with SIGKILL in the middle of their work.

The parent test (marked ``django_db(transaction=True)``, so that its data is committed and a second
process sees it) starts a child with ``spawn``; the child runs against the test's own database, signals
with a marker file when it has reached the chosen point, and then hangs until it is killed. Nothing in
the child gets a chance to clean up: no ``finally``, no rollback sent by Django, no atexit.

Scenarios:

- ``outbox``: ``outbox.deliver_pending`` with ``DurableSmsBackend``, which appends each message it has
  delivered to a log file (fsync'd, so a kill cannot lose a line) and hangs on the chosen message;
- ``import-write <job id>``: ``importing.write_job``, hanging inside the write transaction right after
  the enterprises' rows were inserted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ENV_DATABASE = "GUANJIA_KILLABLE_DATABASE"
ENV_SETTINGS = "GUANJIA_KILLABLE_SETTINGS"
ENV_WORKDIR = "GUANJIA_KILLABLE_WORKDIR"
ENV_HANG_ON = "GUANJIA_KILLABLE_HANG_ON"

READY = "ready"
DELIVERED = "delivered.log"
HANG_SECONDS = 600


def _append_durably(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as stream:
        stream.write(f"{line}\n")
        stream.flush()
        os.fsync(stream.fileno())


def _signal_ready(workdir: Path, note: str) -> None:
    # Written then renamed, so the parent never reads half a note.
    partial = workdir / f"{READY}.partial"
    partial.write_text(note, encoding="utf-8")
    partial.rename(workdir / READY)


def _hang() -> None:
    time.sleep(HANG_SECONDS)
    raise SystemExit("killable: the parent test never killed this process")


class DurableSmsBackend:
    """Records every message it delivered in $GUANJIA_KILLABLE_WORKDIR/delivered.log; hangs, before
    delivering it, on the message whose id is $GUANJIA_KILLABLE_HANG_ON."""

    def send(self, phone: str, text: str, message_id: int) -> None:
        workdir = Path(os.environ[ENV_WORKDIR])
        if os.environ.get(ENV_HANG_ON) == str(message_id):
            _signal_ready(workdir, str(message_id))
            _hang()
        _append_durably(workdir / DELIVERED, str(message_id))


def delivered(workdir: Path) -> list[int]:
    """The ids DurableSmsBackend delivered, in order, repeats included."""
    path = workdir / DELIVERED
    if not path.exists():
        return []
    return [int(line) for line in path.read_text(encoding="utf-8").split()]


# --- The parent's side ----------------------------------------------------------------------------


def _database_settings() -> dict[str, Any]:
    from django.db import connection

    current = connection.settings_dict
    wanted = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
    return {key: str(current[key]) if key == "NAME" else current[key] for key in wanted if key in current}


def spawn(
    scenario: str, *args: str, workdir: Path, settings: dict[str, Any] | None = None, hang_on: str = ""
) -> subprocess.Popen:
    """Start a child process running `scenario` on the test's database."""
    env = dict(os.environ)
    env.update(
        {
            ENV_DATABASE: json.dumps(_database_settings()),
            ENV_SETTINGS: json.dumps(settings or {}),
            ENV_WORKDIR: str(workdir),
            ENV_HANG_ON: hang_on,
            "DJANGO_SETTINGS_MODULE": "guanjia.settings",
            # The child enqueues nothing; should it, huey runs the task in place, touching no queue file.
            "GUANJIA_HUEY_IMMEDIATE": "1",
            "GUANJIA_DATA_DIR": str(workdir / "data"),
        }
    )
    code = "import sys; from guanjia.core.tests.killable import child; child(sys.argv[1:])"
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", code, scenario, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_ready(process: subprocess.Popen, workdir: Path, timeout: float = 60.0) -> str:
    """Wait until the child reached its point of no return; returns its note."""
    marker = workdir / READY
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the child ended (rc {process.returncode}) before its point:\n{out}\n{err}")
        if time.monotonic() > deadline:
            kill(process)
            raise AssertionError("the child did not reach its point in time")
        time.sleep(0.02)
    return marker.read_text(encoding="utf-8")


def kill(process: subprocess.Popen) -> None:
    """SIGKILL: the process gets no chance to clean up, as when the OOM killer or a power cut strikes."""
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


# --- The child's side -----------------------------------------------------------------------------


def _setup() -> Path:
    import django

    # The project's settings module, pointed at the test's database before Django reads it.
    import guanjia.settings as project_settings

    project_settings.DATABASES = {"default": json.loads(os.environ[ENV_DATABASE])}
    for name, value in json.loads(os.environ[ENV_SETTINGS]).items():
        setattr(project_settings, name, value)
    django.setup()
    return Path(os.environ[ENV_WORKDIR])


def _deliver_outbox() -> None:
    from guanjia.core import outbox

    outbox.deliver_pending(worker="doomed-worker")
    raise SystemExit("killable: the batch ended without reaching the message to hang on")


def _write_import(job_id: str, workdir: Path) -> None:
    from guanjia.core import bulk
    from guanjia.enterprises import importing
    from guanjia.enterprises.models import Enterprise

    real_insert = bulk.insert

    def insert_then_hang(model: Any, names: tuple[str, ...], rows: list[tuple]) -> None:
        real_insert(model, names, rows)
        if model is Enterprise:
            # Inside write_rows' transaction: the rows are in, nothing is committed. The note says how
            # many enterprises this transaction sees, so the parent knows the rows really were inserted.
            _signal_ready(workdir, str(Enterprise.objects.count()))
            _hang()

    bulk.insert = insert_then_hang  # type: ignore[assignment]
    importing.write_job(int(job_id))
    raise SystemExit("killable: the import ended without reaching its write")


def child(argv: list[str]) -> None:
    """Entry point of the child process."""
    workdir = _setup()
    scenario, *args = argv
    if scenario == "outbox":
        _deliver_outbox()
    elif scenario == "import-write":
        _write_import(args[0], workdir)
    else:
        raise SystemExit(f"killable: unknown scenario {scenario!r}")
