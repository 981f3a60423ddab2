#!/usr/bin/env python3
"""Copy the front-end files Guanjia serves from npm registry packages into guanjia/static/vendor.

The platform runs on intranets without internet access, so nothing is loaded
from a CDN at run time: this script fetches each pinned package with
`npm pack`, and copies the files we serve together with the package's licence.
Run it when a version below changes, and commit the result.

    python scripts/vendor_static.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "guanjia" / "static" / "vendor"

# package, version, destination folder, files inside the package (paths after "package/")
PACKAGES: list[tuple[str, str, str, list[str]]] = [
    ("htmx.org", "2.0.11", "htmx", ["dist/htmx.min.js"]),
    ("echarts", "5.6.0", "echarts", ["dist/echarts.min.js"]),
    (
        "@tabler/core",
        "1.6.1",
        "tabler",
        ["dist/css/tabler.min.css", "dist/js/tabler.min.js"],
    ),
    # axe-core is used by the browser tests only (accessibility checks).
    ("axe-core", "4.14.1", "axe-core", ["axe.min.js"]),
]


def fetch(package: str, version: str, workdir: Path) -> Path:
    out = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--silent", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    tarball = workdir / out.stdout.strip().splitlines()[-1]
    target = workdir / tarball.stem
    with tarfile.open(tarball) as archive:
        archive.extractall(target, filter="data")
    return target / "package"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for package, version, dest, files in PACKAGES:
            source = fetch(package, version, Path(tmp))
            folder = VENDOR / dest
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for name in files:
                path = source / name
                if not path.exists():
                    print(f"{package}@{version} has no {name}", file=sys.stderr)
                    return 1
                shutil.copy2(path, folder / Path(name).name)
            licence = next(
                (p for p in source.iterdir() if p.name.upper().startswith(("LICENSE", "LICENCE"))), None
            )
            if licence is not None:
                shutil.copy2(licence, folder / "LICENSE")
            else:
                # Some packages (e.g. @tabler/core) ship no licence file; record what package.json declares.
                meta = json.loads((source / "package.json").read_text(encoding="utf-8"))
                (folder / "LICENSE").write_text(
                    f"{package}@{version} is distributed under the {meta.get('license')} licence "
                    f"(declared in its package.json; author: {meta.get('author')}).\n",
                    encoding="utf-8",
                )
            (folder / "VERSION").write_text(f"{package}@{version}\n", encoding="utf-8")
            print(f"vendored {package}@{version} into {folder.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
