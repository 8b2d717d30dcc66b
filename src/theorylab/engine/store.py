"""The results store: one immutable directory per run, sweep specs, verdicts, a SQLite index.

Layout under the root (default ``./theorylab-runs``, or ``$THEORYLAB_HOME``)::

    runs/<experiment>/<run_id>/manifest.json   config, seed, status, timings, error, versions,
                                                and each table's size and sha256
    runs/<experiment>/<run_id>/<table>.parquet  one file per table (run_id, seed, config columns)
    sweeps/<sweep>.json                         the spec and the planned run ids, in order
    verdicts/<sweep>.json                       the last verdict of that sweep
    locks/<sweep>.lock                          the driver running that sweep (pid, host, start)
    index.sqlite                                runs and sweeps, written by the driver only

What the store promises, whatever happens mid-run:

* **Atomic runs.** A run directory is written under a temporary name and renamed into place,
  so a reader sees a complete run or none, even after ``kill -9``. Replacing a failed run swaps
  the two directories atomically (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere a
  move-aside that tolerates a concurrent writer). A run already stored as done is never
  replaced: the same identity computes the same tables, and a verdict never flips under a reader.
* **Checked on load.** Every file's size and sha256 are in the manifest, and the manifest,
  sweep and verdict records carry a hash of their own content. A truncated, damaged or edited
  file is reported by its path, never read as data, and its run is re-run on resume.
* **One driver per sweep.** Planning a sweep takes ``locks/<sweep>.lock`` (created with
  ``O_EXCL`` under an ``flock``, holding the owner's pid, host and process start time). A second
  driver on the same sweep is refused with the owner named; a lock whose owner died (``kill -9``)
  is taken over. The lock is released when every planned run of the sweep is stored, when its
  verdict is saved, or when the process exits.
* **Reads never write.** ``status``, ``load_results``, ``verdict`` and reports only read:
  they work on a read-only store. Write failures (disk full, read-only file system, no
  permission) and SQLite failures raise :class:`StoreError` naming the file and the cause;
  only a corrupted index is called corrupted.

The manifests are the source of truth; the SQLite index is a convenience that
:meth:`Store.rebuild_index` recreates from them (and that is rebuilt when it is missing).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import hashlib
import io
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theorylab import __version__
from theorylab._lazy import lazy_module
from theorylab.engine.checks import Verdict
from theorylab.engine.config import canonical_json
from theorylab.engine.results import Results, annotate, assemble
from theorylab.engine.sweep import Plan, RunSpec, SweepSpec
from theorylab.errors import TheorylabError

if TYPE_CHECKING:
    import pandas as pd

    from theorylab.engine.executors import RunOutcome
    from theorylab.engine.experiment import Experiment

pd = lazy_module("pandas")

__all__ = ["RunCheck", "Store", "StoreError", "check_name", "default_root", "printable", "versions"]

MANIFEST = "manifest.json"
MAX_NAME = 100  # characters in a sweep, experiment or table name (each names a file)
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=@-]*")
_RUN_ID_RE = re.compile(r"[0-9a-f]{8,64}")


class StoreError(TheorylabError):
    """A store that cannot be read or written as asked: the message names the file."""


def default_root() -> Path:
    """``$THEORYLAB_HOME`` if set, else ``./theorylab-runs``."""
    return Path(os.environ.get("THEORYLAB_HOME") or "theorylab-runs")


# -- names and text from users ---------------------------------------------------------------------
def check_name(name: object, what: str = "sweep name") -> str:
    """``name`` if it can name a file inside the store, else :class:`StoreError`.

    1 to 100 letters, digits and ``. _ - + = @``, starting with a letter or digit, no ``..``:
    no path separators, no absolute paths, no dot-files, nothing a shell or a file system treats
    specially.
    """
    if isinstance(name, str) and len(name) <= MAX_NAME and _NAME_RE.fullmatch(name) and ".." not in name:
        return name
    shown = repr(name) if not isinstance(name, str) or len(name) <= 60 else (
        f"{name[:40]!r}... ({len(name):,} characters)")
    raise StoreError(
        f"invalid {what} {printable(shown)}: use 1 to {MAX_NAME} letters, digits and . _ - + = @, "
        "starting with a letter or digit (it names a file in the store: no '/', no '..')"
    )


def _check_run_id(run_id: object) -> str:
    if isinstance(run_id, str) and _RUN_ID_RE.fullmatch(run_id):
        return run_id
    raise StoreError(f"invalid run id {printable(repr(run_id))[:80]} (expected a hex digest)")


def printable(text: str) -> str:
    """``text`` with control and format characters (ANSI escapes, bidi overrides) shown as escapes.

    Newlines and tabs are kept. Stored error text is printed to terminals: an experiment's
    exception message must not be able to move the cursor or recolour the screen.
    """
    if text.isprintable():
        return text
    out = []
    for c in text:
        if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf"):
            out.append(c)
        else:
            out.append(c.encode("unicode_escape").decode("ascii"))
    return "".join(out)


# -- errors, named for what they are ------------------------------------------------------------------
_ERRNO_CAUSE = {
    errno.ENOSPC: "disk full: no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "no such file or directory",
    errno.ENOTDIR: "a path component is not a directory",
    errno.EISDIR: "is a directory",
}


def _io_error(path: Path | str, e: OSError, doing: str) -> StoreError:
    cause = _ERRNO_CAUSE.get(e.errno or -1) or e.strerror or str(e)
    advice = ""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = "; free some space and run the same command again: stored runs are kept"
    elif e.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and doing != "read":
        advice = "; pass --store with a directory you can write"
    return StoreError(f"{path}: cannot {doing} ({cause}){advice}")


def _sqlite_error(path: Path, e: sqlite3.Error) -> StoreError:
    """A :class:`StoreError` that says what went wrong with the index; only corruption says delete."""
    name = getattr(e, "sqlite_errorname", "") or ""
    text = str(e).lower()
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return StoreError(f"{path}: cannot write the index (read-only: {e}); pass --store with a "
                          "directory you can write")
    if name.startswith("SQLITE_FULL") or "disk is full" in text or "database or disk is full" in text:
        return StoreError(f"{path}: cannot write the index (disk full: {e}); free some space and run "
                          "the same command again")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return StoreError(f"{path}: corrupted index ({e}); delete it: the next `theorylab run` rebuilds "
                          "it from the run manifests, which are intact")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return StoreError(f"{path}: the index is locked by another process ({e}); try again when it "
                          "finishes")
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or "unable to open" in text:
        return StoreError(f"{path}: cannot open the index ({e}: missing directory or no permission)")
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return StoreError(f"{path}: I/O error on the index ({e}: the disk may be full or failing)")
    return StoreError(f"{path}: index error ({type(e).__name__}: {e})")


# -- provenance -----------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _git_sha() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


@lru_cache(maxsize=1)
def versions() -> dict[str, Any]:
    """Versions that identify the software a run used (python, numpy, torch, platform, git).

    Read from package metadata: the driver never imports torch just to name its version.
    """
    from importlib.metadata import PackageNotFoundError, version

    def ver(pkg: str) -> str | None:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return None

    return {
        "theorylab": __version__,
        "python": sys.version.split()[0],
        "numpy": ver("numpy"),
        "torch": ver("torch"),
        "pandas": ver("pandas"),
        "platform": platform.platform(),
        "git_sha": _git_sha(),
    }


# -- sealed JSON records --------------------------------------------------------------------------------
def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _seal(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``obj`` as it will read back from JSON, plus ``key``: the sha256 of the rest."""
    plain = json.loads(json.dumps(obj, default=str))
    plain.pop(key, None)
    plain[key] = _digest(plain)
    return plain


def _seal_ok(obj: Mapping[str, Any], key: str) -> bool:
    if key not in obj:  # written before records were sealed: nothing to check against
        return True
    return _digest({k: v for k, v in obj.items() if k != key}) == obj[key]


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def _write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON atomically (synced before the rename); OS errors become StoreError."""
    from theorylab.files import atomic_write

    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True, default=str)
            f.flush()
            os.fsync(f.fileno())

    try:
        atomic_write(path, write)
    except OSError as e:
        raise _io_error(path, e, "write") from None


def _read_json(path: Path) -> Any:
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except FileNotFoundError:
        raise StoreError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StoreError(f"{path}: corrupted JSON ({e})") from None
    except OSError as e:
        raise _io_error(path, e, "read") from None


def _read_record(path: Path, key: str = "record_sha256") -> dict[str, Any]:
    """A sealed JSON record; StoreError naming ``path`` if it is damaged or was edited."""
    rec = _read_json(path)
    if not isinstance(rec, dict):
        raise StoreError(f"{path}: corrupted record (expected a JSON object)")
    if not _seal_ok(rec, key):
        raise StoreError(f"{path}: checksum mismatch (the file was edited or damaged after theorylab wrote it)")
    return rec


# -- atomic directory swap -------------------------------------------------------------------------------
_RENAME_EXCHANGE = 2


@lru_cache(maxsize=1)
def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux ``renameat2``); False where that is not supported."""
    fn = _renameat2()
    if fn is None:
        return False
    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


# -- processes ------------------------------------------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    if sys.platform.startswith("linux"):  # a zombie is dead: it only waits to be reaped
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            return stat[stat.rindex(")") + 2] != "Z"
        except (OSError, ValueError, IndexError):
            return True
    return True


def _pid_started(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _owner() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": platform.node(), "pid_started": _pid_started(os.getpid()),
            "since": time.time(), "command": " ".join(os.path.basename(a) if i == 0 else a
                                                       for i, a in enumerate(sys.argv))[:300]}


def _owner_is_me(info: Mapping[str, Any]) -> bool:
    return (info.get("pid") == os.getpid() and info.get("host") == platform.node()
            and info.get("pid_started") == _pid_started(os.getpid()))


def _owner_alive(info: Mapping[str, Any]) -> bool:
    """Whether the process that wrote ``info`` still runs (one on another host is assumed to)."""
    if not info.get("pid"):  # empty or half-written by a process killed while writing it
        return False
    if info.get("host") != platform.node():
        return True
    pid = info.get("pid")
    if not isinstance(pid, int) or not _pid_alive(pid):
        return False
    started = info.get("pid_started")
    return started is None or _pid_started(pid) in (None, started)


_HELD_LOCKS: set[Path] = set()


@atexit.register
def _release_held_locks() -> None:
    for path in list(_HELD_LOCKS):
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(path.read_text())
            if _owner_is_me(info):
                path.unlink()
        _HELD_LOCKS.discard(path)


# -- the store ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunCheck:
    """A stored run's state: ``missing`` | ``done`` | ``failed`` | ``corrupt``, its manifest, and
    for ``corrupt`` what is wrong (the damaged file's path and why)."""

    state: str
    manifest: dict[str, Any] | None = None
    problem: str | None = None


class Store:
    """A directory of runs. Only the driver process writes it; any number of readers may read it.

    ``notify`` (a callable taking one line of text) is told what the store found and repaired
    (a corrupted run that will be re-run, a stale lock taken over); every such line is also kept
    in ``notices``.
    """

    def __init__(self, root: str | Path | None = None, *, notify: Callable[[str], None] | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root}: exists and is not a directory")
        self.notify = notify
        self.notices: list[str] = []
        self._verified: dict[Path, tuple[int, int, int]] = {}  # table file -> (ino, size, mtime) hashed OK
        self._outstanding: dict[str, set[str]] = {}  # sweep whose lock we hold -> run ids not yet stored

    def _notice(self, text: str) -> None:
        if text in self.notices:
            return
        self.notices.append(text)
        if self.notify is not None:
            self.notify(text)

    # -- paths ----------------------------------------------------------------------------------
    def run_dir(self, experiment: str, run_id: str) -> Path:
        return self.root / "runs" / check_name(experiment, "experiment name") / _check_run_id(run_id)

    def sweep_path(self, name: str) -> Path:
        return self.root / "sweeps" / f"{check_name(name)}.json"

    def verdict_path(self, name: str) -> Path:
        return self.root / "verdicts" / f"{check_name(name)}.json"

    def lock_path(self, name: str) -> Path:
        return self.root / "locks" / f"{check_name(name)}.lock"

    def _require_root(self) -> None:
        if not self.root.exists():
            raise StoreError(f"no store at {self.root} (run an experiment first, or pass --store)")

    # -- runs -------------------------------------------------------------------------------------
    def check_run(self, experiment: str, run_id: str, *, verify: str = "full") -> RunCheck:
        """The state of a stored run, checked against its manifest.

        ``verify``: ``"full"`` hashes every table file (what resuming uses; results are cached
        per file while it is unchanged), ``"size"`` compares sizes only (what ``status`` uses:
        it catches truncation without reading every table). A damaged run is ``corrupt`` with
        the path and the reason; it is re-run on resume and refused on load.
        """
        d = self.run_dir(experiment, run_id)
        mpath = d / MANIFEST
        try:
            raw = mpath.read_bytes()
        except FileNotFoundError:
            if d.is_dir():
                return RunCheck("corrupt", None, f"{mpath}: missing (the run directory has no manifest)")
            return RunCheck("missing")
        except OSError as e:
            raise _io_error(mpath, e, "read") from None
        try:
            m = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            return RunCheck("corrupt", None, f"{mpath}: corrupted JSON ({e})")
        if not isinstance(m, dict):
            return RunCheck("corrupt", None, f"{mpath}: corrupted (not a JSON object)")
        if not _seal_ok(m, "manifest_sha256"):
            return RunCheck("corrupt", m, f"{mpath}: checksum mismatch (the manifest was edited or damaged)")
        if m.get("run_id") != run_id or m.get("experiment") != experiment:
            return RunCheck("corrupt", m, f"{mpath}: describes another run ({m.get('run_id')!r})")
        if m.get("status") != "done":
            return RunCheck("failed", m)
        tables = m.get("tables")
        if not isinstance(tables, dict):
            return RunCheck("corrupt", m, f"{mpath}: corrupted (no table list)")
        for name, meta in tables.items():
            try:
                path = d / f"{check_name(name, 'table name')}.parquet"
            except StoreError as e:
                return RunCheck("corrupt", m, f"{mpath}: {e}")
            problem = self._check_file(path, meta if isinstance(meta, dict) else {}, full=verify == "full")
            if problem:
                return RunCheck("corrupt", m, problem)
        return RunCheck("done", m)

    def _check_file(self, path: Path, meta: Mapping[str, Any], *, full: bool) -> str | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return f"{path}: missing (the run's manifest lists it)"
        except OSError as e:
            raise _io_error(path, e, "read") from None
        want = meta.get("bytes")
        if isinstance(want, int) and st.st_size != want:
            return f"{path}: truncated or damaged ({st.st_size:,} bytes; the manifest says {want:,})"
        sha = meta.get("sha256")
        if not full or not sha:
            return None
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        if self._verified.get(path) == key:
            return None
        h = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        except OSError as e:
            raise _io_error(path, e, "read") from None
        if h.hexdigest() != sha:
            return f"{path}: checksum mismatch (the file changed after the run stored it)"
        self._verified[path] = key
        return None

    def manifest(self, experiment: str, run_id: str) -> dict[str, Any] | None:
        """The run's manifest, None if the run was never stored; StoreError if it is damaged."""
        path = self.run_dir(experiment, run_id) / MANIFEST
        if not path.exists():
            return None
        m = _read_json(path)
        if not isinstance(m, dict) or not _seal_ok(m, "manifest_sha256"):
            raise StoreError(f"{path}: checksum mismatch (the manifest was edited or damaged)")
        return m

    def run_state(self, experiment: str, run_id: str) -> tuple[str, dict[str, Any] | None]:
        """(``missing`` | ``done`` | ``failed`` | ``corrupt``, manifest); sizes checked, not hashes."""
        c = self.check_run(experiment, run_id, verify="size")
        return c.state, c.manifest

    def is_done(self, experiment: str, run_id: str) -> bool:
        """Whether the run is stored, complete and intact (every file hashed); a damaged run is
        reported through :attr:`notify` and counts as not done, so a resume re-runs it."""
        c = self.check_run(experiment, run_id, verify="full")
        if c.state == "corrupt":
            self._notice(f"{c.problem}; re-running run {run_id}")
        if c.state == "done":
            self._settled(run_id)
        return c.state == "done"

    def write_run(self, spec: RunSpec, outcome: RunOutcome) -> dict[str, Any]:
        """Store a run atomically (temp dir + rename) and return the manifest now in place.

        A run already stored as done is kept (the same identity computes the same tables); a
        failed or damaged one is replaced by an atomic swap.
        """
        status, error, tables = outcome.status, outcome.error, {}
        final = self.run_dir(spec.experiment, spec.run_id)
        blobs: dict[str, tuple[bytes, int, list[str]]] = {}
        if status == "done":
            try:  # a table the store cannot hold is the run's failure, not the driver's
                tables = annotate(spec.experiment, spec, outcome.tables)
                for name, df in tables.items():
                    check_name(name, "table name")
                    buf = io.BytesIO()
                    df.to_parquet(buf, index=False)
                    blobs[name] = (buf.getvalue(), len(df), list(map(str, df.columns)))
            except Exception as e:  # a clash with config columns, a bad name, pyarrow's conversion errors
                status, error, blobs = "failed", f"cannot store the run's tables ({type(e).__name__}: {e})", {}
        manifest = _seal({
            "run_id": spec.run_id,
            "experiment": spec.experiment,
            "seed": spec.seed,
            "replicate": spec.replicate,
            "config": spec.config.model_dump(mode="json"),
            "point": dict(spec.point),
            "status": status,
            "error": printable(error) if error else error,
            "started": outcome.started,
            "finished": outcome.finished,
            "duration_s": outcome.duration_s,
            "host": outcome.host,
            "pid": outcome.pid,
            "tables": {name: {"rows": rows, "columns": cols, "bytes": len(data),
                              "sha256": hashlib.sha256(data).hexdigest()}
                       for name, (data, rows, cols) in blobs.items()},
            "versions": versions(),
        }, "manifest_sha256")
        tmp = final.parent / f".tmp-{spec.run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()
            # No fsync: a rename is atomic against a killed process, which is what resuming needs;
            # after a power cut the checksums catch a renamed directory whose data never reached disk.
            for name, (data, _, _) in blobs.items():
                _write_bytes(tmp / f"{name}.parquet", data)
            _write_bytes(tmp / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
            kept = self._install(tmp, final, manifest)
        except OSError as e:
            raise _io_error(e.filename or final, e, "write") from None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        self._index_run(kept)
        self._settled(spec.run_id)
        return kept

    def _install(self, tmp: Path, final: Path, manifest: dict[str, Any]) -> dict[str, Any]:
        experiment, run_id = manifest["experiment"], manifest["run_id"]
        for _ in range(10):
            try:
                os.rename(tmp, final)  # final absent: the common case
                return manifest
            except OSError as e:
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
            # Stored before (a failed attempt, or another driver got there first).
            old = self.check_run(experiment, run_id, verify="full")
            if old.state == "done":
                return old.manifest or manifest
            if old.state == "missing":
                continue  # it vanished meanwhile: rename again
            if _exchange(tmp, final):  # atomic: readers see the old run or the new, never none
                return manifest
            trash = final.parent / f".trash-{run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            try:
                os.rename(final, trash)
            except FileNotFoundError:
                continue  # another writer moved it first
            shutil.rmtree(trash, ignore_errors=True)
        raise StoreError(f"{final}: could not be replaced (another process keeps rewriting it)")

    def read_tables(
        self, experiment: str, run_id: str, manifest: Mapping[str, Any] | None = None
    ) -> dict[str, pd.DataFrame]:
        """The run's tables, each verified against the size and sha256 in its manifest."""
        m = manifest if manifest is not None else self.manifest(experiment, run_id)
        if m is None:
            raise StoreError(f"{self.run_dir(experiment, run_id)}: run not stored")
        out = {}
        for name, meta in (m.get("tables") or {}).items():
            path = self.run_dir(experiment, run_id) / f"{check_name(name, 'table name')}.parquet"
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                raise StoreError(f"{path}: missing (the run's manifest lists it)") from None
            except OSError as e:
                raise _io_error(path, e, "read") from None
            meta = meta if isinstance(meta, dict) else {}
            if isinstance(meta.get("bytes"), int) and len(data) != meta["bytes"]:
                raise StoreError(f"{path}: truncated or damaged ({len(data):,} bytes; the manifest says "
                                 f"{meta['bytes']:,}); run the sweep again to recompute this run")
            if meta.get("sha256") and hashlib.sha256(data).hexdigest() != meta["sha256"]:
                raise StoreError(f"{path}: checksum mismatch (the file changed after the run stored it); "
                                 "run the sweep again to recompute this run")
            try:
                out[name] = pd.read_parquet(io.BytesIO(data))
            except Exception as e:  # pyarrow raises several types for damaged files
                raise StoreError(f"{path}: corrupted Parquet ({type(e).__name__}: {e})") from None
        return out

    def clean_temp(self) -> int:
        """Remove temporary run directories left by killed drivers; return how many."""
        n = 0
        runs = self.root / "runs"
        if not runs.is_dir():
            return 0
        for exp_dir in runs.iterdir():
            if not exp_dir.is_dir():
                continue
            for d in exp_dir.iterdir():
                if not d.name.startswith((".tmp-", ".trash-")):
                    continue
                parts = d.name.split("-")
                pid = int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None
                if pid is not None and pid != os.getpid() and _pid_alive(pid):
                    continue  # another live driver is writing it
                shutil.rmtree(d, ignore_errors=True)
                n += 1
        return n

    # -- sweeps ---------------------------------------------------------------------------------
    def save_sweep(self, name: str, plan: Plan, *, force: bool = False, run_ids: list[str] | None = None) -> None:
        """Record the sweep ``name`` and take its lock; refuse if it exists with a different spec
        unless ``force``, or if another live driver holds its lock."""
        path = self.sweep_path(name)
        new_lock = self.acquire(name)
        try:
            self._save_sweep(name, path, plan, force, run_ids)
        except BaseException:
            if new_lock:
                self.release(name)
            raise

    def _save_sweep(self, name: str, path: Path, plan: Plan, force: bool, run_ids: list[str] | None) -> None:
        spec = plan.spec
        if path.exists():
            try:
                old = _read_record(path)
            except StoreError as e:
                old = None  # a damaged plan record: the spec being saved replaces it (runs are kept)
                self._notice(f"{e}; replacing it with the sweep being planned")
            if old is not None and old.get("fingerprint") != spec.fingerprint() and not force:
                try:
                    was = SweepSpec.from_json(old["spec"]).describe()
                except (KeyError, TypeError, ValueError):
                    was = "?"
                raise StoreError(
                    f"sweep {name!r} in {self.root} was planned with a different spec (was: {was}; "
                    f"now: {spec.describe()}); leave out --name to store it under its own name, "
                    "or add --force to replace it"
                )
        ids = run_ids if run_ids is not None else [r.run_id for r in plan.iter_runs()]
        record = _seal({
            "name": name,
            "experiment": spec.experiment,
            "spec": spec.to_json(),
            "fingerprint": spec.fingerprint(),
            "run_ids": ids,
            "created": time.time(),
            "version": __version__,
        }, "record_sha256")
        _write_json_atomic(path, record)
        self._outstanding[name] = set(ids)
        with self._index() as db:
            db.execute(
                "INSERT OR REPLACE INTO sweeps(name, experiment, spec_json, fingerprint, n_runs, created)"
                " VALUES (?,?,?,?,?,?)",
                (name, spec.experiment, canonical_json(record["spec"]), record["fingerprint"], len(ids),
                 record["created"]),
            )

    def sweep(self, name: str) -> dict[str, Any]:
        path = self.sweep_path(name)
        if not path.exists():
            self._require_root()
            known = ", ".join(self.sweep_names()) or "none"
            raise StoreError(f"no sweep {name!r} in {self.root} (sweeps: {known})")
        rec = _read_record(path)
        check_name(rec.get("experiment"), "experiment name")
        if not isinstance(rec.get("run_ids", []), list) or not isinstance(rec.get("spec", {}), dict):
            raise StoreError(f"{path}: corrupted record (run_ids or spec of the wrong type)")
        return rec

    def sweep_names(self) -> list[str]:
        d = self.root / "sweeps"
        if not d.is_dir():
            return []
        return sorted(p.stem for p in d.glob("*.json")
                      if not p.name.startswith(".") and _NAME_RE.fullmatch(p.stem) and ".." not in p.stem)

    def sweeps(self) -> dict[str, dict[str, Any]]:
        """Every stored sweep record, by name (each file read once)."""
        return {n: self.sweep(n) for n in self.sweep_names()}

    def latest_sweep(self, experiment: str, preset: str | None = None) -> str | None:
        """The most recently planned sweep of ``experiment`` (of ``preset`` if given), or None."""
        best, t = None, -1.0
        for n, rec in self.sweeps().items():
            if rec.get("experiment") != experiment:
                continue
            if preset is not None and rec.get("spec", {}).get("preset") != preset:
                continue
            if rec.get("created", 0) > t:
                best, t = n, rec.get("created", 0)
        return best

    def sweep_runs(self, name: str, record: Mapping[str, Any] | None = None) -> list[RunSpec]:
        """The planned runs of sweep ``name``, re-planned from its stored spec."""
        from theorylab.engine.registry import get_experiment

        rec = record if record is not None else self.sweep(name)
        exp = get_experiment(rec["experiment"])
        return list(Plan(exp, SweepSpec.from_json(rec["spec"])).iter_runs())

    def load_results(self, experiment: Experiment, name: str, runs: Iterable[RunSpec] | None = None) -> Results:
        """Results of the done runs of sweep ``name`` (failed and missing runs are left out).

        Every table is verified against its manifest's checksum; a damaged run raises
        :class:`StoreError` naming the file (re-running the sweep recomputes it).
        """
        rec = self.sweep(name)
        specs = list(runs) if runs is not None else self.sweep_runs(name, rec)
        loaded = []
        for spec in specs:
            c = self.check_run(spec.experiment, spec.run_id, verify="size")
            if c.state == "corrupt":
                raise StoreError(f"{c.problem}; run sweep {name!r} again to recompute this run")
            if c.state == "done":
                loaded.append((spec, "done", self.read_tables(spec.experiment, spec.run_id, c.manifest)))
        return assemble(experiment.name, loaded, tuple(rec["spec"].get("sweep", {})))

    def status(self) -> list[dict[str, Any]]:
        """Per sweep: planned, done, failed (each error's last line and config point), corrupt
        (each file and why), missing, the stored verdict, and the driver running it now.

        Reads only JSON and file sizes: no experiment is imported, nothing is written, and a
        damaged record is shown in its row instead of stopping the listing.
        """
        rows = []
        for name in self.sweep_names():
            row: dict[str, Any] = {"sweep": name, "experiment": None, "preset": None, "planned": 0, "done": 0,
                                   "failed": 0, "corrupt": 0, "missing": 0, "verdict": None, "kind": None,
                                   "errors": [], "running": self.lock_owner(name), "problem": None}
            rows.append(row)
            try:
                rec = self.sweep(name)
            except StoreError as e:
                row["problem"] = printable(str(e))
                continue
            exp = rec["experiment"]
            row.update(experiment=exp, preset=rec.get("spec", {}).get("preset"), planned=len(rec["run_ids"]))
            for rid in rec["run_ids"]:
                try:
                    c = self.check_run(exp, rid, verify="size")
                except StoreError as e:
                    c = RunCheck("corrupt", None, str(e))
                m = c.manifest or {}
                if c.state in ("missing", "done"):
                    row[c.state] += 1
                    continue
                row[c.state] += 1
                if c.state == "corrupt":
                    text = f"stored file damaged: {c.problem}; re-running the sweep recomputes it"
                else:
                    last = [ln for ln in (m.get("error") or "failed").strip().splitlines() if ln.strip()]
                    text = last[-1] if last else "failed"
                point = m.get("point") if isinstance(m.get("point"), dict) else {}
                row["errors"].append({"run_id": rid, "seed": m.get("seed"), "state": c.state,
                                      "point": printable(", ".join(f"{k}={v}" for k, v in point.items())),
                                      "error": printable(text)})
            try:
                v = self.verdict(name)
            except StoreError as e:
                row["verdict"], row["problem"] = "damaged", printable(str(e))
                continue
            row["verdict"], row["kind"] = (v or {}).get("status"), (v or {}).get("kind")
        return rows

    # -- one driver per sweep -------------------------------------------------------------------------
    def lock_owner(self, name: str) -> dict[str, Any] | None:
        """Who holds sweep ``name``'s lock (pid, host, since, command), or None if no live driver does."""
        info = self._read_lock(self.lock_path(name))
        return info if info is not None and _owner_alive(info) else None

    @staticmethod
    def _read_lock(path: Path) -> dict[str, Any] | None:
        try:
            info = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable or half-written by a process killed while writing: stale
        return info if isinstance(info, dict) else {}

    @contextlib.contextmanager
    def _mutex(self) -> Iterator[None]:
        """An exclusive ``flock`` on ``locks/.mutex`` (released by the kernel if we die)."""
        d = self.root / "locks"
        try:
            d.mkdir(parents=True, exist_ok=True)
            fd = os.open(d / ".mutex", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise _io_error(d, e, "write") from None
        try:
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - not POSIX: O_EXCL alone
                pass
            yield
        finally:
            os.close(fd)

    def acquire(self, name: str) -> bool:
        """Take sweep ``name``'s lock for this process, or StoreError naming the live holder.

        Returns False if this process held it already."""
        path = self.lock_path(name)
        with self._mutex():
            info = self._read_lock(path)
            if info is not None and not _owner_is_me(info):
                if _owner_alive(info):
                    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("since", 0)))
                    raise StoreError(
                        f"sweep {name!r} is being run by another theorylab process (pid {info.get('pid')} on "
                        f"{info.get('host')}, since {since}: {printable(str(info.get('command', '?')))}); "
                        "wait for it to finish (`theorylab status` shows its progress) or stop it, then run "
                        f"this command again to resume. If no such process runs any more, delete {path}"
                    )
                if info:
                    self._notice(f"taking over sweep {name!r} from pid {info.get('pid')}, which is no longer "
                                 "running (its stored runs are kept)")
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                info = None
            if info is None:
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                    with os.fdopen(fd, "w") as f:
                        json.dump(_owner(), f)
                except OSError as e:
                    raise _io_error(path, e, "write") from None
        _HELD_LOCKS.add(path)
        return info is None

    def release(self, name: str) -> None:
        """Give back sweep ``name``'s lock if this process holds it."""
        path = self.lock_path(name)
        self._outstanding.pop(name, None)
        info = self._read_lock(path)
        if info and _owner_is_me(info):
            with contextlib.suppress(OSError):
                path.unlink()
        _HELD_LOCKS.discard(path)

    def _settled(self, run_id: str) -> None:
        """A planned run is stored: release each sweep we lock whose runs are all stored now."""
        for name, ids in list(self._outstanding.items()):
            ids.discard(run_id)
            if not ids:
                self.release(name)

    # -- verdicts ---------------------------------------------------------------------------------
    def save_verdict(self, name: str, verdict: Verdict, extra: Mapping[str, Any] | None = None) -> None:
        record = _seal({**verdict.to_json_dict(), "sweep": name, "saved": time.time(), **(extra or {})},
                       "record_sha256")
        _write_json_atomic(self.verdict_path(name), record)
        with self._index() as db:
            db.execute(
                "INSERT OR REPLACE INTO verdicts(sweep, experiment, status, verdict_json, saved) VALUES (?,?,?,?,?)",
                (name, verdict.experiment, verdict.status, json.dumps(record, default=str), record["saved"]),
            )
        self.release(name)

    def verdict(self, name: str) -> dict[str, Any] | None:
        """The stored verdict of sweep ``name`` (None if none); StoreError if it was edited."""
        path = self.verdict_path(name)
        return _read_record(path) if path.exists() else None

    # -- index ------------------------------------------------------------------------------------
    _SCHEMA = """
        PRAGMA journal_mode=WAL;
        PRAGMA synchronous=NORMAL;
        CREATE TABLE IF NOT EXISTS runs(
            run_id TEXT PRIMARY KEY, experiment TEXT, seed INTEGER, replicate INTEGER,
            status TEXT, config_json TEXT, started REAL, finished REAL, duration_s REAL,
            error TEXT, path TEXT);
        CREATE TABLE IF NOT EXISTS sweeps(
            name TEXT PRIMARY KEY, experiment TEXT, spec_json TEXT, fingerprint TEXT,
            n_runs INTEGER, created REAL);
        CREATE TABLE IF NOT EXISTS verdicts(
            sweep TEXT PRIMARY KEY, experiment TEXT, status TEXT, verdict_json TEXT, saved REAL);
    """

    @contextlib.contextmanager
    def _index(self) -> Iterator[sqlite3.Connection]:
        """A connection to the index for one write, committed and closed; errors named.

        A missing index (deleted because it was corrupted) is rebuilt from the manifests first.
        """
        path = self.root / "index.sqlite"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _io_error(self.root, e, "write") from None
        fresh = not path.exists()
        db = None
        try:
            db = sqlite3.connect(path, timeout=30)
            db.executescript(self._SCHEMA)
            if fresh:
                self._fill_index(db)
            yield db
            db.commit()
        except sqlite3.Error as e:
            raise _sqlite_error(path, e) from None
        finally:
            if db is not None:
                db.close()

    @staticmethod
    def _run_row(m: Mapping[str, Any], path: Path) -> tuple[Any, ...]:
        return (m["run_id"], m["experiment"], m["seed"], m["replicate"], m["status"],
                canonical_json(m["config"]), m["started"], m["finished"], m["duration_s"], m["error"], str(path))

    def _fill_index(self, db: sqlite3.Connection) -> int:
        n = 0
        for mpath in sorted((self.root / "runs").glob(f"*/*/{MANIFEST}")):
            if mpath.parent.name.startswith("."):
                continue
            try:
                m = _read_json(mpath)
                db.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)", self._run_row(m, mpath.parent))
                n += 1
            except (StoreError, KeyError, TypeError):
                continue  # a damaged manifest is reported by status and re-run on resume
        return n

    def _index_run(self, m: Mapping[str, Any]) -> None:
        with self._index() as db:
            db.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       self._run_row(m, self.run_dir(m["experiment"], m["run_id"])))

    def rebuild_index(self) -> int:
        """Recreate the SQLite index from the manifests; return the runs indexed."""
        path = self.root / "index.sqlite"
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except OSError as e:
                raise _io_error(p, e, "delete") from None
        with self._index() as db:
            return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])

    def index_ok(self) -> bool:
        """Whether the index opens and reads (read-only: never creates or repairs it)."""
        path = self.root / "index.sqlite"
        if not path.exists():
            return False
        try:
            db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=5)
            try:
                db.execute("SELECT count(*) FROM runs").fetchone()
            finally:
                db.close()
            return True
        except sqlite3.Error:
            return False
