"""Worker processes: started only where they pay, and a command killed outright (SIGKILL)
leaves no worker process or resource tracker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from unclf.workers import (
    PARENT_CHECK_SECONDS,
    WORKERS_PAY_FROM_CHARACTERS,
    processes_worth_starting,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "examples.jsonl"


@pytest.mark.parametrize(
    ("n_jobs", "characters", "expected"),
    [
        (-1, WORKERS_PAY_FROM_CHARACTERS - 1, 1),  # all cores: not worth starting them
        (-2, 1000, 1),
        (-1, WORKERS_PAY_FROM_CHARACTERS, -1),
        (2, 1000, 2),  # a number asked for is kept
        (None, 10**9, None),
        (1, 10**9, 1),
    ],
)
def test_all_cores_only_where_starting_them_pays(n_jobs, characters, expected) -> None:
    assert processes_worth_starting(n_jobs, characters) == expected


def test_a_small_training_on_all_cores_starts_no_process(monkeypatch) -> None:
    import json

    import joblib._parallel_backends

    from unclf.model import TargetSelector

    started = []
    monkeypatch.setattr(
        joblib._parallel_backends, "get_memmapping_executor", lambda *a, **k: started.append(a)
    )
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()][:6]
    targets = [[(t["start"], t["end"]) for t in r.get("targets", [])] for r in rows]
    TargetSelector(n_folds=2, n_jobs=-1).fit([r["text"] for r in rows], targets)
    assert started == []


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its new parent's wait() is missing


def _command(pid: int) -> str:
    proc = Path("/proc") / str(pid)
    try:
        command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        threads = {t.name: (t / "wchan").read_text() for t in (proc / "task").iterdir()}
    except OSError:
        return f"{pid} (ended)"
    return f"{command} (threads waiting in {threads})"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_train_killed_with_sigkill_leaves_no_process_behind(tmp_path: Path) -> None:
    train = subprocess.Popen(
        [sys.executable, "-m", "unclf.cli", "train", str(DATA), "--label",
         "regional cooperation", "--model-out", str(tmp_path / "m.unclf"), "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        # two workers and the resource trackers: the folds are being fitted side by side
        while len(workers) < 3 and train.poll() is None and time.monotonic() < deadline:
            workers = _children(train.pid)
            time.sleep(0.05)
        assert train.poll() is None, f"train ended first: {train.stderr.read().decode()}"
        assert len(workers) >= 3, "no worker processes seen"
        os.kill(train.pid, signal.SIGKILL)
        train.wait()
        # A worker killed while it starts (imports) ends once started: on a loaded machine
        # that can take tens of seconds; loky's own idle timeout is 300 s.
        deadline = time.monotonic() + 120 + PARENT_CHECK_SECONDS
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [_command(pid) for pid in workers if _alive(pid)]
        assert not left, f"still running after the command was killed: {left}"
    finally:
        for pid in _children(train.pid) if train.poll() is None else ():
            os.kill(pid, signal.SIGKILL)
        if train.poll() is None:
            train.kill()
