"""The upload's sha256 read ahead of the senders (`glint_client.hashing`), in either form: a
forked process (what `glint upload` starts before its imports) and a thread (where the process
already runs threads). The forked form is exercised in a fresh interpreter, single-threaded as
the command is when it forks; each case is a function of this module run there."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from glint_client import hashing
from glint_client.errors import UploadFailed

ROOT = Path(__file__).resolve().parents[2]
LEAD = 4096


def _start(source: Path, forked: bool) -> hashing.Sha256Ahead:
    hasher = hashing.start(source, lead=LEAD)
    assert isinstance(hasher, hashing._ForkedSha256 if forked else hashing._ThreadedSha256)
    return hasher


def digest_of_a_file_larger_than_a_block(source: Path, forked: bool) -> None:
    data = os.urandom(hashing.BLOCK * 2 + 3)
    source.write_bytes(data)
    hasher = _start(source, forked)
    hasher.advance(len(data))
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()


def _hasher_pid(hasher: hashing.Sha256Ahead) -> int:
    return getattr(hasher, "_pid", os.getpid())


def _read_so_far(pid: int, source: Path) -> int:
    """How far process `pid` has read `source`, once it has read some of it: the offset of
    its open file (Linux's /proc)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == str(source):
                    info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
                    if position := int(info.split("pos:")[1].split()[0]):
                        return position
            except (OSError, IndexError):
                pass  # closed meanwhile
        time.sleep(0.005)
    raise AssertionError(f"{pid} never read {source}")


def reads_no_further_than_the_lead_past_the_senders(source: Path, forked: bool) -> None:
    source.write_bytes(b"a" * LEAD + b"b" * LEAD)
    hasher = _start(source, forked)
    with ThreadPoolExecutor(1) as pool:
        digest = pool.submit(hasher.hexdigest)
        assert _read_so_far(_hasher_pid(hasher), source) == LEAD  # and waits there
        with open(source, "r+b") as file:
            file.seek(LEAD)
            file.write(b"c" * LEAD)
        hasher.advance(LEAD)
        assert digest.result(timeout=30) == hashlib.sha256(b"a" * LEAD + b"c" * LEAD).hexdigest()


def a_stop_ends_it(source: Path, forked: bool) -> None:
    source.write_bytes(b"a" * 3 * LEAD)
    hasher = _start(source, forked)
    hasher.stop()
    with pytest.raises(UploadFailed, match="stopped"):
        hasher.hexdigest()
    hasher.advance(3 * LEAD)  # a sender still running after the stop: no error
    if forked:  # reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(hasher._pid, os.WNOHANG)


def a_file_that_got_shorter_fails(source: Path, forked: bool) -> None:
    source.write_bytes(b"a" * 2 * LEAD)
    hasher = _start(source, forked)
    os.truncate(source, LEAD + 1)
    hasher.advance(2 * LEAD)
    with pytest.raises(UploadFailed, match="got shorter while it was being sent"):
        hasher.hexdigest()


def ctrl_c_is_left_to_the_command(source: Path, forked: bool) -> None:
    """The terminal sends SIGINT to the whole process group: the child ignores it."""
    source.write_bytes(b"a" * 2 * LEAD)
    hasher = _start(source, forked)
    assert _read_so_far(_hasher_pid(hasher), source) == LEAD  # waiting for the senders
    os.kill(_hasher_pid(hasher), signal.SIGINT)
    hasher.advance(LEAD)
    assert hasher.hexdigest() == hashlib.sha256(b"a" * 2 * LEAD).hexdigest()


def leaves_no_hasher_when_killed(source: Path, forked: bool) -> None:
    """The command killed while the child waits for the senders: the child ends too."""
    source.write_bytes(b"a" * 2 * LEAD)
    hasher = _start(source, forked)
    print(hasher._pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


CASES = [digest_of_a_file_larger_than_a_block, reads_no_further_than_the_lead_past_the_senders,
         a_stop_ends_it, a_file_that_got_shorter_fails]


def _in_a_fresh_interpreter(case: str, source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; "
         "from tests.unit import test_client_hashing as t; "
         f"getattr(t, sys.argv[1])(Path(sys.argv[2]), forked=True)", case, str(source)],
        cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("case", [*CASES, ctrl_c_is_left_to_the_command],
                         ids=lambda case: case.__name__)
def test_forked(case, tmp_path):
    done = _in_a_fresh_interpreter(case.__name__, tmp_path / "source")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_threaded(case, tmp_path, monkeypatch):
    monkeypatch.setattr(hashing.threading, "active_count", lambda: 2)  # as in a threaded caller
    case(tmp_path / "source", forked=False)


def test_the_forked_hasher_ends_with_the_command_killed_under_it(tmp_path):
    done = _in_a_fresh_interpreter(leaves_no_hasher_when_killed.__name__, tmp_path / "source")
    assert done.returncode == -signal.SIGKILL, done.stderr
    status = Path(f"/proc/{done.stdout.strip()}/status")
    deadline = time.monotonic() + 10
    while status.exists() and "zombie" not in status.read_text():
        assert time.monotonic() < deadline, "the hasher outlived the command"
        time.sleep(0.01)
