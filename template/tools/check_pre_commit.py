"""Check that .pre-commit-config.yaml runs the tools at the versions uv.lock pins.

Its hooks repeat the checks of `nox -s lint`, which installs from uv.lock: a
hook on another version would pass or fail other code. Each hook repository
below runs one locked package; its rev must be that package's version.

Usage: python tools/check_pre_commit.py [--root DIR]
Prints one line per mismatch and exits 1, or a one-line summary and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import yaml

# Hook repository -> the package in uv.lock whose version its rev names.
HOOK_PACKAGES = {
    "https://github.com/astral-sh/ruff-pre-commit": "ruff",
    "https://github.com/zizmorcore/zizmor-pre-commit": "zizmor",
    "https://github.com/python-jsonschema/check-jsonschema": "check-jsonschema",
    "https://github.com/codespell-project/codespell": "codespell",
}


def check(root: Path) -> tuple[list[str], str]:
    config_path = root / ".pre-commit-config.yaml"
    if not config_path.is_file():
        return [], "no .pre-commit-config.yaml: nothing to check"
    lock_path = root / "uv.lock"
    if not lock_path.is_file():
        return ["uv.lock is missing: run `uv lock` (any nox session does)"], ""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    lock = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    locked = {p["name"]: p["version"] for p in lock["package"] if "version" in p}
    problems, checked = [], 0
    for repo in config.get("repos", []):
        package = HOOK_PACKAGES.get(str(repo.get("repo", "")).lower())
        if package is None:
            continue  # pre-commit-hooks, local hooks, and hooks you add
        checked += 1
        rev = str(repo.get("rev", ""))
        want = locked.get(package)
        if want is None:
            problems.append(
                f".pre-commit-config.yaml: {repo['repo']} runs {package}, which "
                "uv.lock does not pin: add it to the lint dependency group"
            )
        elif rev.removeprefix("v") != want:
            fixed = f"v{want}" if rev.startswith("v") else want
            problems.append(
                f".pre-commit-config.yaml: {repo['repo']} is at rev {rev}, but "
                f"uv.lock pins {package} {want}: set `rev: {fixed}`"
            )
    return problems, f"pre-commit runs the locked versions: {checked} hooks checked"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(), help="default: .")
    problems, summary = check(parser.parse_args().root.resolve())
    print("\n".join(problems) or summary)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
