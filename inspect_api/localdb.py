"""The local development database: a SecantusDB daemon, reached only over the wire.

SecantusDB (PyPI ``secantusdb``, GPL-2.0-only) is a single-node server that
speaks the MongoDB wire protocol over WiredTiger.  It is a development and
test server, installed by the ``local`` extra (``make`` installs it, the
production image does not).  This module never imports it: it runs its
``secantusd-py`` executable as a separate process and talks to it through
pymongo like to any MongoDB.

Layout of a local store folder (``var/secantus`` for ``make run``)::

    data/         WiredTiger home (journaled; ``--sync-on-commit`` fsyncs every commit)
    server.json   the running daemon: pid, port, uri (read by every command of this checkout)
    store.json    the SecantusDB version that last opened ``data/`` (newer-version refusal)
    server.log    the daemon's log
    launcher.lock serialises concurrent "start or reuse" calls

:func:`ensure` starts the daemon or reuses the running one, so ``make run``,
``python -m scheduler run-once``, ``verify-audit`` and ``create-admin`` all
reach the same data.  Refusals (folder locked by a process that is not the
recorded daemon, folder written by a newer SecantusDB, executable missing)
raise :class:`LocalStoreError`, a one-line process exit.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

EXECUTABLE = "secantusd-py"
DISTRIBUTION = "secantusdb"
REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0


class LocalStoreError(SystemExit):
    """A clear, one-line refusal to use a local store folder (exits the process with status 1)."""


@dataclass(frozen=True)
class LocalServer:
    """A running daemon: where it listens and which folder it serves."""

    pid: int
    port: int
    uri: str
    data_dir: str
    version: str | None = None


def store_root(config_value: str | os.PathLike | None) -> Path:
    """The store folder: ``local_db_dir`` from the config, relative to the checkout when not absolute."""
    path = Path(config_value or "var/secantus")
    return path if path.is_absolute() else REPO_ROOT / path


def installed_version() -> str | None:
    """The installed SecantusDB version (package metadata only; nothing is imported)."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def executable() -> str:
    """Path of ``secantusd-py``: next to this interpreter (the venv) first, then on PATH."""
    here = Path(sys.executable).parent / EXECUTABLE
    if here.exists():
        return str(here)
    found = shutil.which(EXECUTABLE)
    if not found:
        raise LocalStoreError(
            f"refusing to start: the local database server ({EXECUTABLE}) is not installed; "
            "install the development extra: pip install -e '.[dev,local]' (make does), "
            "or set MONGODB_URI, or INSPECT_STORE=memory for a throwaway in-memory store")
    return found


def _version_key(version: str) -> tuple:
    """Sortable key of a version string (packaging when available, else numeric parts)."""
    try:
        from packaging.version import Version

        return (0, Version(version))
    except Exception:  # noqa: BLE001 - packaging missing or an odd version: compare the numbers
        return (1, tuple(int(x) for x in re.findall(r"\d+", version)))


def uri_for(port: int) -> str:
    """The URI of a daemon on this machine (``retryWrites=false``: its retryable-write cache slows writes)."""
    return f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _serves(pid: int, data_dir: Path) -> bool:
    """True when process ``pid`` is a SecantusDB daemon serving ``data_dir`` (Linux /proc; else pid alone)."""
    if not _pid_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    text = b" ".join(args).decode("utf-8", "replace")
    return EXECUTABLE in text and str(data_dir) in text


def answers(uri: str, timeout_s: float = 2.0) -> bool:
    """True when a server at ``uri`` answers ``ping``."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client = MongoClient(uri, serverSelectionTimeoutMS=int(timeout_s * 1000), connectTimeoutMS=int(timeout_s * 1000))
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _folder_locked(data_dir: Path) -> bool:
    """True when another process holds WiredTiger's lock on ``data_dir`` (a POSIX lock on WiredTiger.lock)."""
    lock = data_dir / "WiredTiger.lock"
    if not lock.exists():
        return False
    with lock.open("rb+") as fh:
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(fh, fcntl.LOCK_UN)
    return False


def check_folder(root: Path) -> None:
    """Refuse a data folder written by a newer SecantusDB, or locked by a process we did not start."""
    data_dir = root / "data"
    marker = root / "store.json"
    installed = installed_version()
    if marker.exists() and installed:
        try:
            written = json.loads(marker.read_text("utf-8")).get("secantusdb")
        except (OSError, ValueError):
            written = None
        if written and _version_key(written) > _version_key(installed):
            raise LocalStoreError(
                f"refusing to start: the local data folder {data_dir} was written by SecantusDB {written}, newer "
                f"than the installed {installed}; install that version (pip install 'secantusdb=={written}') "
                "or move the folder away (its data is kept as it is)")
    if _folder_locked(data_dir):
        raise LocalStoreError(
            f"refusing to start: the local data folder {data_dir} is locked by another process (a database server "
            f"not started from this checkout); stop it first, or set local_db_dir / MONGODB_URI to use another store")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_state(root: Path) -> LocalServer | None:
    try:
        raw = json.loads((root / "server.json").read_text("utf-8"))
        return LocalServer(**raw)
    except (OSError, ValueError, TypeError):
        return None


def running(root: Path) -> LocalServer | None:
    """The recorded daemon of ``root`` when it is alive, serves that folder and answers; else None."""
    state = _read_state(root)
    if state is None or not _serves(state.pid, Path(state.data_dir)):
        return None
    return state if answers(state.uri) else None


def _log_tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


def spawn(data_dir: Path | str, *, port: int = 0, sync_on_commit: bool = True, log_file: Path | None = None,
          log_level: str = "WARNING", detach: bool = True, timeout_s: float = START_TIMEOUT_S) -> LocalServer:
    """Start ``secantusd-py`` on ``data_dir`` (``:memory:`` for a throwaway) and wait until it answers.

    ``detach`` puts it in a session of its own, so it outlives the caller (``make run``); the test
    session keeps it attached and stops it at the end.  Raises :class:`LocalStoreError` with the
    daemon's own last log lines when it exits or does not answer in time.
    """
    exe = executable()
    for _try in range(3):  # a free port may be taken between choosing and binding it
        chosen = port or _free_port()
        cmd = [exe, "--host", "127.0.0.1", "--port", str(chosen), "--storage-path", str(data_dir),
               "--log-level", log_level]
        if sync_on_commit:
            cmd.append("--sync-on-commit")
        out = log_file.open("ab") if log_file else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    start_new_session=detach, close_fds=True)
        finally:
            if log_file:
                out.close()
        uri = uri_for(chosen)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if answers(uri, timeout_s=1.0):
                return LocalServer(pid=proc.pid, port=chosen, uri=uri, data_dir=str(data_dir),
                                   version=installed_version())
            time.sleep(0.2)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            raise LocalStoreError(f"refusing to start: the local database server on {data_dir} did not answer within "
                                  f"{timeout_s:.0f} s ({_log_tail(log_file) if log_file else 'no log'})")
        tail = _log_tail(log_file) if log_file else ""
        if "Address already in use" in tail and not port:
            continue
        if "resource busy" in tail or "Resource temporarily unavailable" in tail:
            raise LocalStoreError(f"refusing to start: the local data folder {data_dir} is locked by another process")
        raise LocalStoreError(f"refusing to start: the local database server exited with status {proc.returncode} "
                              f"on {data_dir}: {tail or 'no output'}")
    raise LocalStoreError("refusing to start: no free port for the local database server after 3 tries")


@contextlib.contextmanager
def _launcher_lock(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    with (root / "launcher.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure(root: Path, *, port: int = 0) -> tuple[LocalServer, bool]:
    """Start the daemon of ``root`` or reuse the running one; returns (server, started_now)."""
    with _launcher_lock(root):
        current = running(root)
        if current is not None:
            return current, False
        check_folder(root)
        data_dir = root / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        server = spawn(data_dir, port=port, sync_on_commit=True, log_file=root / "server.log")
        (root / "server.json").write_text(json.dumps(asdict(server), indent=2) + "\n", "utf-8")
        if server.version:
            (root / "store.json").write_text(json.dumps({"secantusdb": server.version}) + "\n", "utf-8")
        return server, True


def stop(root: Path, timeout_s: float = 30.0) -> bool:
    """Stop the recorded daemon of ``root`` (SIGTERM, then SIGKILL); True when one was running."""
    with _launcher_lock(root):
        state = _read_state(root)
        if state is None or not _serves(state.pid, Path(state.data_dir)):
            with contextlib.suppress(FileNotFoundError):
                (root / "server.json").unlink()
            return False
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _pid_alive(state.pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(state.pid, os.WNOHANG)
            time.sleep(0.1)
        if _pid_alive(state.pid):
            os.kill(state.pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            (root / "server.json").unlink()
        return True
