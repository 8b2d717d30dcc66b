"""The results store: one immutable directory per run, sweep specs, verdicts, a SQLite index.

Layout under the root (default ``./theorylab-runs``, or ``$THEORYLAB_HOME``)::

    runs/<experiment>/<run_id>/manifest.json   config, seed, status, timings, error, versions
    runs/<experiment>/<run_id>/<table>.parquet  one file per table (run_id, seed, config columns)
    sweeps/<sweep>.json                         the spec and the planned run ids, in order
    verdicts/<sweep>.json                       the last verdict of that sweep
    index.sqlite                                runs and sweeps, written by the driver only

A run directory is written under a temporary name and renamed into place (``os.replace``), so
a reader sees either a complete run or none, even after ``kill -9``. The manifest is the
source of truth; the SQLite index is a convenience that :meth:`Store.rebuild_index` recreates.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
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

__all__ = ["Store", "StoreError", "default_root", "versions"]

MANIFEST = "manifest.json"


class StoreError(TheorylabError):
    """A store that cannot be read or written as asked: the message names the file."""


def default_root() -> Path:
    """``$THEORYLAB_HOME`` if set, else ``./theorylab-runs``."""
    return Path(os.environ.get("THEORYLAB_HOME") or "theorylab-runs")


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


def _write_json_atomic(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise StoreError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StoreError(f"{path}: corrupted JSON ({e})") from None
    except OSError as e:
        raise StoreError(f"{path}: unreadable ({e.strerror})") from None


class Store:
    """A directory of runs. Only the driver process writes it."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root}: exists and is not a directory")

    # -- paths ----------------------------------------------------------------------------------
    def run_dir(self, experiment: str, run_id: str) -> Path:
        return self.root / "runs" / experiment / run_id

    def sweep_path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise StoreError(f"invalid sweep name {name!r}")
        return self.root / "sweeps" / f"{name}.json"

    def verdict_path(self, name: str) -> Path:
        return self.root / "verdicts" / f"{name}.json"

    # -- runs -------------------------------------------------------------------------------------
    def manifest(self, experiment: str, run_id: str) -> dict[str, Any] | None:
        """The run's manifest, None if the run was never stored; StoreError if corrupted."""
        path = self.run_dir(experiment, run_id) / MANIFEST
        if not path.exists():
            return None
        return _read_json(path)

    def run_state(self, experiment: str, run_id: str) -> tuple[str, dict[str, Any] | None]:
        """(``missing`` | ``done`` | ``failed``, manifest): ``done`` needs every listed table."""
        m = self.manifest(experiment, run_id)
        if m is None:
            return "missing", None
        d = self.run_dir(experiment, run_id)
        if m.get("status") == "done" and all((d / f"{t}.parquet").exists() for t in m.get("tables", {})):
            return "done", m
        return "failed", m

    def is_done(self, experiment: str, run_id: str) -> bool:
        return self.run_state(experiment, run_id)[0] == "done"

    def write_run(self, spec: RunSpec, outcome: RunOutcome) -> dict[str, Any]:
        """Write a run's tables and manifest atomically (temp dir + rename); return the manifest."""
        status, error, tables = outcome.status, outcome.error, {}
        if status == "done":
            try:
                tables = annotate(spec.experiment, spec, outcome.tables)
            except ValueError as e:  # a schema error is the run's failure, not the driver's
                status, error = "failed", f"ValueError: {e}"
        final = self.run_dir(spec.experiment, spec.run_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".tmp-{spec.run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            table_meta = {}
            for name, df in tables.items():
                df.to_parquet(tmp / f"{name}.parquet", index=False)
                table_meta[name] = {"rows": len(df), "columns": list(map(str, df.columns))}
            manifest = {
                "run_id": spec.run_id,
                "experiment": spec.experiment,
                "seed": spec.seed,
                "replicate": spec.replicate,
                "config": spec.config.model_dump(mode="json"),
                "point": dict(spec.point),
                "status": status,
                "error": error,
                "started": outcome.started,
                "finished": outcome.finished,
                "duration_s": outcome.duration_s,
                "host": outcome.host,
                "pid": outcome.pid,
                "tables": table_meta,
                "versions": versions(),
            }
            # No fsync: os.replace is atomic against a killed process, which is what resume needs.
            with open(tmp / MANIFEST, "w") as f:
                json.dump(manifest, f, indent=2, sort_keys=True, default=str)
            if final.exists():  # a failed run being replaced: move it aside, then swap in
                trash = final.parent / f".trash-{spec.run_id}-{uuid.uuid4().hex[:8]}"
                os.replace(final, trash)
                os.replace(tmp, final)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._index_run(manifest)
        return manifest

    def read_tables(
        self, experiment: str, run_id: str, manifest: Mapping[str, Any] | None = None
    ) -> dict[str, pd.DataFrame]:
        m = manifest if manifest is not None else self.manifest(experiment, run_id)
        if m is None:
            raise StoreError(f"{self.run_dir(experiment, run_id)}: run not stored")
        out = {}
        for name in m.get("tables", {}):
            path = self.run_dir(experiment, run_id) / f"{name}.parquet"
            try:
                out[name] = pd.read_parquet(path)
            except FileNotFoundError:
                raise StoreError(f"{path}: missing (the run's manifest lists it)") from None
            except Exception as e:  # pyarrow raises several types for damaged files
                raise StoreError(f"{path}: corrupted Parquet ({type(e).__name__}: {e})") from None
        return out

    def clean_temp(self) -> int:
        """Remove temporary run directories left by killed drivers; return how many."""
        n = 0
        runs = self.root / "runs"
        if not runs.exists():
            return 0
        for exp_dir in runs.iterdir():
            if not exp_dir.is_dir():
                continue
            for d in exp_dir.iterdir():
                if d.name.startswith((".tmp-", ".trash-")):
                    parts = d.name.split("-")
                    pid = int(parts[2]) if d.name.startswith(".tmp-") and parts[2].isdigit() else None
                    if pid is not None and pid != os.getpid() and _pid_alive(pid):
                        continue  # another live driver is writing it
                    shutil.rmtree(d, ignore_errors=True)
                    n += 1
        return n

    # -- sweeps ---------------------------------------------------------------------------------
    def save_sweep(self, name: str, plan: Plan, *, force: bool = False, run_ids: list[str] | None = None) -> None:
        """Record the sweep ``name``; refuse if it exists with a different spec unless ``force``."""
        path = self.sweep_path(name)
        spec = plan.spec
        if path.exists():
            old = _read_json(path)
            if old.get("fingerprint") != spec.fingerprint() and not force:
                was = SweepSpec.from_json(old["spec"]).describe() if "spec" in old else "?"
                raise StoreError(
                    f"sweep {name!r} in {self.root} was planned with a different spec (was: {was}; "
                    f"now: {spec.describe()}); leave out --name to store it under its own name, "
                    "or add --force to replace it"
                )
        ids = run_ids if run_ids is not None else [r.run_id for r in plan.iter_runs()]
        record = {
            "name": name,
            "experiment": spec.experiment,
            "spec": spec.to_json(),
            "fingerprint": spec.fingerprint(),
            "run_ids": ids,
            "created": time.time(),
            "version": __version__,
        }
        _write_json_atomic(path, record)
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO sweeps(name, experiment, spec_json, fingerprint, n_runs, created)"
                " VALUES (?,?,?,?,?,?)",
                (name, spec.experiment, canonical_json(record["spec"]), record["fingerprint"], len(ids),
                 record["created"]),
            )

    def sweep(self, name: str) -> dict[str, Any]:
        path = self.sweep_path(name)
        if not path.exists():
            known = ", ".join(self.sweep_names()) or "none"
            raise StoreError(f"no sweep {name!r} in {self.root} (sweeps: {known})")
        return _read_json(path)

    def sweep_names(self) -> list[str]:
        d = self.root / "sweeps"
        return sorted(p.stem for p in d.glob("*.json")) if d.exists() else []

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
        """Results of the done runs of sweep ``name`` (failed and missing runs are left out)."""
        rec = self.sweep(name)
        specs = list(runs) if runs is not None else self.sweep_runs(name, rec)
        loaded = []
        for spec in specs:
            state, m = self.run_state(spec.experiment, spec.run_id)
            if state == "done":
                loaded.append((spec, "done", self.read_tables(spec.experiment, spec.run_id, m)))
        return assemble(experiment.name, loaded, tuple(rec["spec"].get("sweep", {})))

    def status(self) -> list[dict[str, Any]]:
        """Per sweep: planned, done, failed (with each error's last line and config point), missing,
        and the stored verdict. Reads only JSON: no experiment is imported, nothing is written."""
        rows = []
        for name, rec in self.sweeps().items():
            exp = rec["experiment"]
            done = failed = missing = 0
            errors = []
            for rid in rec.get("run_ids", []):
                state, m = self.run_state(exp, rid)
                if state == "missing":
                    missing += 1
                elif state == "done":
                    done += 1
                else:
                    failed += 1
                    last = [ln for ln in ((m or {}).get("error") or "failed").strip().splitlines() if ln.strip()]
                    point = ", ".join(f"{k}={v}" for k, v in ((m or {}).get("point") or {}).items())
                    errors.append({"run_id": rid, "seed": (m or {}).get("seed"), "point": point,
                                   "error": last[-1] if last else "failed"})
            v = self.verdict(name)
            spec = rec.get("spec", {})
            rows.append({
                "sweep": name, "experiment": exp, "preset": spec.get("preset"),
                "planned": len(rec.get("run_ids", [])), "done": done, "failed": failed, "missing": missing,
                "verdict": (v or {}).get("status"), "kind": (v or {}).get("kind"), "errors": errors,
            })
        return rows

    # -- verdicts ---------------------------------------------------------------------------------
    def save_verdict(self, name: str, verdict: Verdict, extra: Mapping[str, Any] | None = None) -> None:
        record = {**verdict.to_json_dict(), "sweep": name, "saved": time.time(), **(extra or {})}
        _write_json_atomic(self.verdict_path(name), record)
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO verdicts(sweep, experiment, status, verdict_json, saved) VALUES (?,?,?,?,?)",
                (name, verdict.experiment, verdict.status, json.dumps(record, default=str), record["saved"]),
            )

    def verdict(self, name: str) -> dict[str, Any] | None:
        path = self.verdict_path(name)
        return _read_json(path) if path.exists() else None

    # -- index ------------------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "index.sqlite"
        try:
            db = sqlite3.connect(path, timeout=30)
            db.executescript(
                """
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
            )
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{path}: corrupted index ({e}); delete it and run `theorylab status` to rebuild") from None
        return db

    def _index_run(self, m: Mapping[str, Any]) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    m["run_id"], m["experiment"], m["seed"], m["replicate"], m["status"],
                    canonical_json(m["config"]), m["started"], m["finished"], m["duration_s"],
                    m["error"], str(self.run_dir(m["experiment"], m["run_id"])),
                ),
            )

    def rebuild_index(self) -> int:
        """Recreate the SQLite index from the manifests and sweep files; return runs indexed."""
        path = self.root / "index.sqlite"
        if path.exists():
            path.unlink()
        n = 0
        for mpath in sorted((self.root / "runs").glob(f"*/*/{MANIFEST}")):
            if mpath.parent.name.startswith("."):
                continue
            self._index_run(_read_json(mpath))
            n += 1
        return n

    def index_ok(self) -> bool:
        path = self.root / "index.sqlite"
        if not path.exists():
            return False
        try:
            with self._db() as db:
                db.execute("SELECT count(*) FROM runs").fetchone()
            return True
        except (StoreError, sqlite3.DatabaseError):
            return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
