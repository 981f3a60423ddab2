"""Run the demo: the web server (gunicorn) and the background worker (huey), until Ctrl+C.

`make demo` migrates and loads the demo data first, then runs this. Both
children get this process's environment; if either dies, the other is stopped
and we exit non-zero, so a half-running demo never looks healthy.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping

STARTUP_SECONDS = 60
STOP_SECONDS = 15


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # A session of its own: Ctrl+C reaches only us, and we stop each child the way it likes.
    return subprocess.Popen([sys.executable, *args], env=env, start_new_session=True)


def stop(children: Mapping[str, tuple[subprocess.Popen, signal.Signals]]) -> None:
    # gunicorn shuts down gracefully on SIGTERM; huey's consumer does on SIGINT (SIGTERM is its hard stop).
    for proc, graceful in children.values():
        if proc.poll() is None:
            proc.send_signal(graceful)
    deadline = time.monotonic() + STOP_SECONDS
    for proc, _ in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description="运行演示：Web 服务和后台任务")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args()

    probe_host = "127.0.0.1" if options.host in ("0.0.0.0", "") else options.host
    url = f"http://{probe_host}:{options.port}"
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="guanjia.settings")
    env.setdefault("GUANJIA_SITE_URL", url)  # invitation links point at this server
    os.environ.update(env)

    import django
    import gunicorn

    django.setup()
    from guanjia.enterprises.demo import format_logins

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())

    web = ["-m", "gunicorn", "guanjia.wsgi:application", "--workers", "2"]
    web += ["--bind", f"{options.host}:{options.port}"]
    if gunicorn.version_info >= (25, 1):
        # Its control socket defaults to one path per user: two demos on one machine would fight over it.
        web.append("--no-control-socket")
    children = {
        "Web 服务": (start(web, env), signal.SIGTERM),
        "后台任务": (start(["-m", "guanjia.cli", "run_huey"], env), signal.SIGINT),
    }

    started = time.monotonic()
    ready = False
    while not stopping.wait(0.5):
        dead = [name for name, (proc, _) in children.items() if proc.poll() is not None]
        if dead:
            print(f"{'、'.join(dead)}已退出，正在停止其余进程", file=sys.stderr)
            stop(children)
            return 1
        if not ready:
            if healthy(url):
                ready = True
                print(f"\n管家演示已启动：{url}/\n\n{format_logins()}\n\n按 Ctrl+C 停止", flush=True)
            elif time.monotonic() - started > STARTUP_SECONDS:
                print(f"{STARTUP_SECONDS} 秒内 {url}/healthz 没有应答，正在停止", file=sys.stderr)
                stop(children)
                return 1
    print("\n正在停止……", flush=True)
    stop(children)
    return 0


if __name__ == "__main__":
    sys.exit(main())
