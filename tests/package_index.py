"""A real package index for publishing tests: pypiserver on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PackageIndex:
    url: str
    packages: Path

    @property
    def simple_url(self) -> str:
        return f"{self.url}simple/"

    def files(self) -> set[str]:
        """What the index holds, as file names."""
        return {p.name for p in self.packages.iterdir()}

    def contents(self) -> dict[str, bytes]:
        """What the index holds, byte for byte, as pypiserver stored it."""
        return {p.name: p.read_bytes() for p in self.packages.iterdir()}

    def twine_env(self, url: str | None = None) -> dict[str, str]:
        """What a user sets to publish here (or through a proxy at url) instead
        of (Test)PyPI."""
        return {
            "TWINE_REPOSITORY_URL": url or self.url,
            "TWINE_USERNAME": "wheelwright",
            "TWINE_PASSWORD": "not-a-real-token",
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(packages: Path, log: Path) -> tuple[subprocess.Popen[bytes], PackageIndex]:
    """Start pypiserver (uploads without authentication, no overwrites)."""
    packages.mkdir(parents=True, exist_ok=True)
    for _ in range(5):  # another process may take the port between probe and bind
        port = free_port()
        with log.open("wb") as log_file:
            server = subprocess.Popen(
                [sys.executable, "-m", "pypiserver", "run", "--host", "127.0.0.1",
                 "--port", str(port), "--authenticate", ".", "--passwords", ".",
                 "--disable-fallback", str(packages)],
                stdout=log_file, stderr=subprocess.STDOUT,
            )  # fmt: skip
        index = PackageIndex(url=f"http://127.0.0.1:{port}/", packages=packages)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(index.simple_url, timeout=2):
                    return server, index
            except OSError:
                time.sleep(0.1)
        server.terminate()
        server.wait(timeout=10)
    raise RuntimeError(f"pypiserver did not start:\n{log.read_text()}")
