"""Run Stoplight Prism serving an official OpenAPI document, for plugins' contract tests.

Prism answers every request from the document alone and flags any request or answer that
breaks it (``sl-violations``), so a plugin's calls are checked against the vendor's own
contract rather than against an imitation written by the same hands. Prism comes from
``npm ci`` at the repository root (``node_modules/.bin/prism``), ``FBS_PRISM``, or PATH;
without it or Node.js the test is :func:`~fbs_core.testing.specs.unavailable`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .specs import unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 90


def prism_binary() -> str | None:
    """``FBS_PRISM``, else the repository's ``node_modules/.bin/prism``, else PATH."""
    if os.environ.get("FBS_PRISM"):
        return os.environ["FBS_PRISM"]
    local = REPO_ROOT / "node_modules" / ".bin" / "prism"
    return str(local) if local.exists() else shutil.which("prism")


@contextmanager
def running_prism(spec: Path, log_dir: Path) -> Iterator[str]:
    """Serve ``spec`` with ``prism mock`` on a free loopback port; yield its base URL."""
    binary = prism_binary()
    if binary is None:
        unavailable("Prism not installed: run `npm ci` at the repository root or set FBS_PRISM")
    if not Path(binary).is_file() and shutil.which(binary) is None:
        unavailable(f"Prism not found at FBS_PRISM={binary}")
    if shutil.which("node") is None:
        unavailable("Node.js is not on PATH; Prism needs it")
    port = _free_port()
    log_path = log_dir / "prism.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(process, url, log_path)
        yield url
    finally:
        _stop(process)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            unavailable(f"Prism exited with code {process.returncode} before listening:\n{tail}")
        try:
            httpx.get(url, timeout=2)  # any answer, even an error, means it listens
            return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"Prism did not listen on {url} within {START_SECONDS} s; log: {log_path}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # its own session: Prism and nothing else
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
