"""Hostile and unlucky input to the engine and the CLI (issue 11, part 2).

Every bad value is one line on stderr, exit code 2, before any work, with nothing written.
Names from users cannot leave the store; user and stored text is never console markup; a
damaged or edited stored file is named by its path and never read as data; a read-only or
missing store gets a clear error and reads never write; SQLite and disk errors are named for
what they are.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import Field

import theorylab
from theorylab.engine import store as store_mod
from theorylab.engine.config import ALLOW_EMPTY, ConfigError, ExperimentConfig, build_config
from theorylab.engine.executors import RunOutcome
from theorylab.engine.registry import get_experiment
from theorylab.engine.runner import run_sweep
from theorylab.engine.store import Store, StoreError, check_name
from theorylab.engine.sweep import plan_sweep

SMOKE = ["--preset", "smoke", "--executor", "serial"]


def _one_line_error(code: int, err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and mtime: equal before and after means nothing was written."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(root))] = (st.st_size if p.is_file() else 0, st.st_mtime_ns)
    return out


# -- bad values: one line, exit 2, nothing written ------------------------------------------------
LONG = "x" * 300
BAD_RUNS = [
    (["--workers", "-1"], "--workers must be a positive integer"),
    (["--workers", "0"], "--workers must be a positive integer"),
    (["--workers", "100000"], "--workers 100000 is more than"),
    (["--executor", "ray", "--workers", "-3"], "--workers must be a positive integer"),
    (["--name", LONG], "invalid --name 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... (300 characters)"),
    (["--name", "../escape"], "invalid --name '../escape'"),
    (["--name", "/etc/passwd"], "invalid --name '/etc/passwd'"),
    (["--name", "a/b"], "invalid --name 'a/b'"),
    (["--name", ".hidden"], "invalid --name '.hidden'"),
    (["--name", "a\\b"], "invalid --name"),
    (["--name", "[/x]"], "invalid --name '[/x]'"),
    (["--max-runs", "0"], "--max-runs must be a positive integer"),
    (["--time-budget", "0"], "--time-budget must be a positive number"),
    (["--seeds", "1000000000"], "this sweep plans up to 1,000,000,000 runs (1 grid points × 1,000,000,000 seeds), "
                                "above the cap of 20,000; narrow the grid or the seeds, or raise the cap with --max-runs"),
    (["--sweep", "x=" + ",".join(map(str, range(300))), "--sweep", "n=" + ",".join(map(str, range(1, 101)))],
     "plans 60,000 runs (30,000 grid points × 2 seeds), above the cap"),
    (["--seeds", "0"], "seeds must be a positive integer"),
    (["--base-seed", "-1"], "base seed must be an integer in [0, 2^63)"),
    (["--set", "x=Infinity"], "x: Input should be a finite number (got inf)"),
    (["--set", "x=-Infinity"], "x: Input should be a finite number (got -inf)"),
    (["--set", "x=NaN"], "x: Input should be a finite number (got nan)"),
    (["--sweep", "x=1,Infinity"], "x: Input should be a finite number (got inf)"),
    (["--set", "n=1e400"], "n: Input should be a finite number"),
    (["--set", "n=true"], "n: true/false is not a valid value here"),
    (["--set", "n=0"], "n: Input should be greater than or equal to 1"),
    (["--set", "n=[1,2]"], "n: Input should be a valid integer"),
    (["--set", "label=a\x1b[2Jb"], "label: control character '\\x1b'"),
    (["--set", "label=" + "y" * 5000], "label: text of 5,000 characters (at most 4,096)"),
    (["--preset", "[/x]"], "unknown preset '[/x]' for toy-noise"),
    (["--preset", "[red]x[/red]"], "unknown preset '[red]x[/red]'"),
    (["--set", "[/x]=1"], "unknown config key '[/x]'"),
]


@pytest.mark.parametrize(("args", "message"), BAD_RUNS, ids=[" ".join(a)[:40] for a, _ in BAD_RUNS])
def test_bad_run_input_is_one_line_exit_2_and_writes_nothing(capsys, store_dir, args, message, cli):
    base = ["run", "toy-noise", "--store", str(store_dir)]
    if "--preset" not in args:
        base += ["--preset", "smoke"]
    code, _, err = cli(*base, *args)
    line = _one_line_error(code, err)
    assert message in line
    assert not store_dir.exists()  # nothing written, not even the store directory


def test_reproduce_refuses_bad_workers_before_any_work(capsys, store_dir, cli):
    code, _, err = cli("reproduce", "--only", "toy-noise", "--workers", "-1", "--store", str(store_dir))
    assert "--workers must be a positive integer" in _one_line_error(code, err)
    assert not store_dir.exists()


class _Cfg(ExperimentConfig):
    dims: tuple[int, ...] = Field((1, 2), description="widths")
    extra: tuple[int, ...] = Field((), description="may be empty", json_schema_extra=ALLOW_EMPTY)
    maybe: tuple[int, ...] | None = Field(None, description="optional list")
    limit: float = Field(math.inf, description="no limit by default", allow_inf_nan=True)
    tolerance_se: float = Field(2.0, gt=0, description="standard errors")
    flag: bool = Field(False, description="a switch")


def test_base_config_refuses_non_finite_floats_and_empty_tuples_unless_allowed():
    assert build_config(_Cfg, {}).limit == math.inf  # a field that allows it says so
    with pytest.raises(ConfigError, match=r"tolerance_se: Input should be a finite number \(got inf\)"):
        build_config(_Cfg, {"tolerance_se": float("inf")})  # would make a check pass whatever it measured
    with pytest.raises(ConfigError, match=r"tolerance_se: Input should be a finite number"):
        build_config(_Cfg, {"tolerance_se": "Infinity"})
    with pytest.raises(ConfigError, match=r"^dims: empty tuple \(give at least one value\)$"):
        build_config(_Cfg, {"dims": []})  # would reach the check as an empty family (KeyError)
    with pytest.raises(ConfigError, match=r"^maybe: empty tuple"):
        build_config(_Cfg, {"maybe": []})
    assert build_config(_Cfg, {"extra": []}).extra == ()
    assert build_config(_Cfg, {"maybe": None}).maybe is None
    with pytest.raises(ConfigError, match="dims: true/false is not a valid value"):
        build_config(_Cfg, {"dims": [1, True]})
    assert build_config(_Cfg, {"flag": True}).flag is True


# -- user and stored text is never markup ------------------------------------------------------------
def test_markup_in_user_and_stored_text_is_printed_verbatim(capsys, store_dir, cli):
    s = str(store_dir)
    code, out, err = cli("run", "toy-noise", *SMOKE, "--store", s, "--set", "fail_on=1",
                          "--set", "label=[/x]", "--name", "marked")
    assert code == 1 and "Traceback" not in out + err and "toy failure at x=1.0" in out
    # A stored error holding markup, an ANSI escape and a bidi override (an experiment's message).
    st = Store(store_dir)
    spec = next(iter(plan_sweep(get_experiment("toy-noise"), preset="smoke", sweep={"x": [7]}).iter_runs()))
    st.save_sweep("evil", plan_sweep(get_experiment("toy-noise"), preset="smoke", sweep={"x": [7]}))
    st.write_run(spec, RunOutcome(spec.run_id, "failed", {}, "RuntimeError: [/x] [red]boom[/red] \x1b[2J \u202eevil",
                                  1.0, 2.0))
    st.release("evil")
    for _ in range(2):  # status used to crash on every call for the whole store
        code, out, err = cli("status", "--store", s)
        assert code == 0 and "Traceback" not in err, err
        text = " ".join(out.split())
        assert "[/x] [red]boom[/red] \\x1b[2J \\u202eevil" in text
        assert "\x1b" not in out and "\u202e" not in out
        assert "marked" in text and "toy failure at x=1.0" in text
    code, out, _ = cli("status", "--store", s, "--json")
    rows = {r["sweep"]: r for r in json.loads(out)}
    assert rows["evil"]["errors"][0]["error"] == "RuntimeError: [/x] [red]boom[/red] \\x1b[2J \\u202eevil"


# -- names cannot leave the store ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../x", "../../etc/passwd", "/abs", "a/b", "a\\b", ".hidden", "", "x" * 101,
                                  "a..b", "nul\x00l", "tab\tx", "new\nline", "-flag", "ü", "C:evil", "a b"])
def test_names_cannot_escape_the_store(tmp_path, name):
    st = Store(tmp_path / "store")
    with pytest.raises(StoreError, match="invalid"):
        check_name(name)
    for method in (st.sweep_path, st.verdict_path, st.lock_path):
        with pytest.raises(StoreError, match="invalid"):
            method(name)
    with pytest.raises(StoreError, match="invalid"):
        st.run_dir(name, "0123456789abcdef0123")
    with pytest.raises(StoreError, match="invalid run id"):
        st.run_dir("toy-noise", name or "..")
    assert not (tmp_path / "store").exists()


def test_hostile_records_in_the_store_are_refused_not_followed(store_dir, capsys, cli):
    rep = run_sweep("toy-noise", preset="smoke", executor="serial")
    sweeps = store_dir / "sweeps"
    rec = json.loads((sweeps / f"{rep.name}.json").read_text())
    # Hand-made records (no checksum, as an older theorylab or an attacker writes them).
    (sweeps / "evil-ids.json").write_text(json.dumps({**{k: v for k, v in rec.items() if k != "record_sha256"},
                                                      "run_ids": ["../../../../etc"]}))
    (sweeps / "evil-exp.json").write_text(json.dumps({**{k: v for k, v in rec.items() if k != "record_sha256"},
                                                      "experiment": "../../outside"}))
    rid = rep.run_ids[0]
    m = json.loads((store_dir / "runs" / "toy-noise" / rid / "manifest.json").read_text())
    m.pop("manifest_sha256")
    m["tables"] = {"../../../escape": {"rows": 1}}
    (store_dir / "runs" / "toy-noise" / rid / "manifest.json").write_text(json.dumps(m))
    rows = {r["sweep"]: r for r in Store().status()}
    assert "invalid run id" in rows["evil-ids"]["errors"][0]["error"]
    assert "invalid experiment name" in rows["evil-exp"]["problem"]
    assert rows[rep.name]["corrupt"] == 1 and "invalid table name" in rows[rep.name]["errors"][0]["error"]
    code, _, err = cli("status", "--store", str(store_dir))
    assert code == 0 and "Traceback" not in err


# -- damaged, truncated and edited files ---------------------------------------------------------------------
def _flip_byte(path: Path, at: int = -200) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_edited_or_truncated_files_are_named_never_read_and_rerun_on_resume(store_dir):
    kw = {"preset": "smoke", "sweep": {"x": [1, 2]}, "executor": "serial"}
    rep = run_sweep("toy-noise", **kw)
    before = theorylab.load("toy-noise", "summary").sort_values("run_id").reset_index(drop=True)
    verdict = Store().verdict(rep.name)["status"]
    d0, d1, d2 = (store_dir / "runs" / "toy-noise" / rid for rid in rep.run_ids[:3])
    _flip_byte(d0 / "summary.parquet")  # same size: only the checksum sees it
    with pytest.raises(StoreError, match=rf"{d0.name}/summary\.parquet: checksum mismatch"):
        theorylab.load("toy-noise")
    (d1 / "draws.parquet").write_bytes((d1 / "draws.parquet").read_bytes()[:500])  # truncated
    m = json.loads((d2 / "manifest.json").read_text())
    m["seed"] += 1  # an edited manifest
    (d2 / "manifest.json").write_text(json.dumps(m))
    rows = {r["sweep"]: r for r in Store().status()}
    # status compares sizes only (it does not read every table): the truncation and the manifest show
    assert rows[rep.name]["corrupt"] == 2 and rows[rep.name]["done"] == 2
    problems = " ".join(e["error"] for e in rows[rep.name]["errors"])
    assert f"{d1.name}/draws.parquet: truncated or damaged (500 bytes" in problems
    assert f"{d2.name}/manifest.json: checksum mismatch" in problems
    notices: list[str] = []
    rep2 = run_sweep("toy-noise", **kw, store=Store(notify=notices.append))
    assert rep2.done == 3 and rep2.skipped == 1 and rep2.complete
    assert len(notices) == 3 and all("re-running run" in n for n in notices)
    after = theorylab.load("toy-noise", "summary").sort_values("run_id").reset_index(drop=True)
    import pandas as pd

    pd.testing.assert_frame_equal(before, after)
    assert Store().verdict(rep2.name)["status"] == verdict
    assert not [p for p in (store_dir / "runs" / "toy-noise").iterdir() if p.name.startswith(".")]


def test_an_edited_verdict_or_sweep_record_is_not_believed(store_dir, capsys, cli):
    rep = run_sweep("toy-noise", preset="smoke", executor="serial")
    vpath = store_dir / "verdicts" / f"{rep.name}.json"
    v = json.loads(vpath.read_text())
    v["status"] = "supported" if v["status"] != "supported" else "not supported"
    vpath.write_text(json.dumps(v))
    with pytest.raises(StoreError, match=r"verdicts/toy-noise\.smoke\.json: checksum mismatch"):
        Store().verdict(rep.name)
    row = Store().status()[0]
    assert row["verdict"] == "damaged" and "checksum mismatch" in row["problem"]
    code, out, _ = cli("status", "--store", str(store_dir))
    assert code == 0 and "damaged" in out
    spath = store_dir / "sweeps" / f"{rep.name}.json"
    s = json.loads(spath.read_text())
    s["run_ids"] = s["run_ids"][:1]  # an edited plan would hide a run
    spath.write_text(json.dumps(s))
    with pytest.raises(StoreError, match="checksum mismatch"):
        Store().sweep(rep.name)
    # Re-running the sweep replaces the damaged plan record and the verdict.
    notices: list[str] = []
    rep2 = run_sweep("toy-noise", preset="smoke", executor="serial", store=Store(notify=notices.append))
    assert rep2.skipped == 2 and rep2.verdict is not None and any("replacing it" in n for n in notices)
    assert Store().verdict(rep.name)["status"] == rep2.verdict.status


# -- read-only and missing stores ----------------------------------------------------------------------------
def _read_only_prefix(root: Path) -> list[str] | None:
    """A command prefix that runs with ``root`` read-only: a read-only bind mount in a private
    mount namespace (root), or write permission removed (any other user); None if neither works."""
    if os.geteuid() != 0:
        for p in [root, *root.rglob("*")]:
            if p.is_dir():
                p.chmod(0o555)
            else:
                p.chmod(0o444)
        return []
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return None
    r = str(root)
    return ["unshare", "-m", "sh", "-c", f'mount --bind "{r}" "{r}" && mount -o remount,bind,ro "{r}" && exec "$@"',
            "sh"]


def test_reads_work_on_a_read_only_store_and_never_write(store_dir, tmp_path):
    rep = run_sweep("toy-noise", preset="smoke", sweep={"x": [1, 2]}, overrides={"fail_on": 2}, executor="serial")
    assert len(rep.failed) == 2
    prefix = _read_only_prefix(store_dir)
    if prefix is None:
        pytest.skip("no way to make a read-only directory here")
    before = _tree(store_dir)
    py = [*prefix, sys.executable]
    out_html = tmp_path / "report.html"
    try:
        r = subprocess.run([*py, "-m", "theorylab", "status", "--store", str(store_dir), "--json"],
                           capture_output=True, text=True, timeout=120, check=False)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)[0]["failed"] == 2
        r = subprocess.run([*py, "-m", "theorylab", "report", rep.name, "--store", str(store_dir), "-o", str(out_html)],
                           capture_output=True, text=True, timeout=120, check=False)
        assert r.returncode == 0 and out_html.exists(), r.stderr
        r = subprocess.run([*py, "-c", f"import theorylab; print(len(theorylab.load({rep.name!r}, store={str(store_dir)!r})))"],
                           capture_output=True, text=True, timeout=120, check=False)
        assert r.returncode == 0 and r.stdout.strip() == "40", r.stderr
        # Running needs to write: refused in one line that says why, before any run.
        r = subprocess.run([*py, "-m", "theorylab", "run", "toy-noise", *SMOKE, "--sweep", "x=1,2", "--set",
                            "fail_on=2", "--store", str(store_dir)], capture_output=True, text=True, timeout=120,
                           check=False)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert "cannot write (read-only file system)" in lines[0] or "cannot write (permission denied)" in lines[0]
    finally:
        for p in [store_dir, *store_dir.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert _tree(store_dir) == before  # nothing written, not even an index


def test_missing_store_or_store_that_is_a_file(capsys, tmp_path, cli):
    missing = tmp_path / "nope"
    for args in (["status"], ["report", "toy-noise"]):
        code, _, err = cli(*args, "--store", str(missing))
        assert "no store at" in _one_line_error(code, err)
    with pytest.raises(StoreError, match="no store at"):
        Store(missing).sweep("toy-noise.smoke")
    afile = tmp_path / "file"
    afile.write_text("x")
    code, _, err = cli("status", "--store", str(afile))
    assert "exists and is not a directory" in _one_line_error(code, err)
    assert not missing.exists()


# -- disk full, read-only file system, SQLite errors: named for what they are --------------------------
def test_disk_full_is_named_and_leaves_no_partial_run(store_dir, monkeypatch, capsys, cli):
    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(store_mod, "_write_bytes", full)
    code, _, err = cli("run", "toy-noise", *SMOKE, "--store", str(store_dir))
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and "Traceback" not in err, err
    line = lines[-1]  # after the progress line: the error is the last, and only, word on what failed
    assert line.startswith("error: ") and sum(ln.startswith("error") for ln in lines) == 1
    assert "cannot write (disk full: no space left on the device); free some space" in line
    assert "/runs/toy-noise/.tmp-" in line  # the path that failed
    assert not [p for p in (store_dir / "runs" / "toy-noise").iterdir()]  # no partial run left
    monkeypatch.undo()

    def fsync_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_mod.os, "fsync", fsync_full)
    with pytest.raises(StoreError, match=r"verdicts/x\.json: cannot write \(disk full"):
        store_mod._write_json_atomic(store_dir / "verdicts" / "x.json", {"a": 1})
    assert not list((store_dir / "verdicts").iterdir())  # the temporary file is gone too

    def erofs(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(store_mod.os, "fsync", erofs)
    with pytest.raises(StoreError, match=r"cannot write \(read-only file system\); pass --store"):
        store_mod._write_json_atomic(store_dir / "verdicts" / "x.json", {"a": 1})


def _sqlite_exc(cls: type[sqlite3.Error], msg: str, name: str) -> sqlite3.Error:
    e = cls(msg)
    e.sqlite_errorname = name  # what sqlite3 sets on the errors it raises (Python >= 3.11)
    return e


@pytest.mark.parametrize(("exc", "says", "delete"), [
    (_sqlite_exc(sqlite3.OperationalError, "attempt to write a readonly database", "SQLITE_READONLY"),
     "read-only", False),
    (_sqlite_exc(sqlite3.OperationalError, "database or disk is full", "SQLITE_FULL"), "disk full", False),
    (_sqlite_exc(sqlite3.OperationalError, "database is locked", "SQLITE_BUSY"), "locked by another process", False),
    (_sqlite_exc(sqlite3.OperationalError, "unable to open database file", "SQLITE_CANTOPEN"), "cannot open", False),
    (_sqlite_exc(sqlite3.OperationalError, "disk I/O error", "SQLITE_IOERR_WRITE"), "I/O error", False),
    (_sqlite_exc(sqlite3.DatabaseError, "file is not a database", "SQLITE_NOTADB"), "corrupted index", True),
    (_sqlite_exc(sqlite3.DatabaseError, "database disk image is malformed", "SQLITE_CORRUPT"), "corrupted index", True),
])
def test_sqlite_errors_are_named_and_only_corruption_says_delete(tmp_path, exc, says, delete):
    msg = str(store_mod._sqlite_error(tmp_path / "index.sqlite", exc))
    assert says in msg and str(tmp_path / "index.sqlite") in msg
    assert ("delete it" in msg) == delete


def test_corrupted_index_is_reported_then_rebuilt_once_deleted(store_dir, capsys, cli):
    run_sweep("toy-noise", preset="smoke", executor="serial")
    index = store_dir / "index.sqlite"
    for p in store_dir.glob("index.sqlite*"):
        p.unlink()
    index.write_bytes(b"this is not a database" * 100)
    code, _, err = cli("run", "toy-noise", *SMOKE, "--sweep", "x=3", "--store", str(store_dir))
    line = _one_line_error(code, err)
    assert "index.sqlite: corrupted index" in line and "delete it" in line
    code, _, err = cli("status", "--store", str(store_dir))  # reads never touch the index
    assert code == 0
    index.unlink()
    code, _, err = cli("run", "toy-noise", *SMOKE, "--sweep", "x=3", "--store", str(store_dir))
    assert code == 0, err
    db = sqlite3.connect(index)
    try:
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 4  # the 2 earlier runs came back
    finally:
        db.close()
    assert Store(store_dir).index_ok()


# -- cost ----------------------------------------------------------------------------------------------------
def test_estimated_time_above_the_budget_is_warned_about(capsys, store_dir, cli):
    code, _, err = cli("run", "toy-noise", "--preset", "quick", "--executor", "serial",
                        "--store", str(store_dir), "--time-budget", "0.01")
    assert code == 0
    assert ("warning: 2 runs to do, estimated 10s (5 s per quick run × 2 / 1 workers), above --time-budget "
            "0.01 min") in " ".join(err.split())
    code, _, err = cli("run", "toy-noise", "--preset", "quick", "--executor", "serial",
                        "--store", str(store_dir), "--time-budget", "0.01")
    assert code == 0 and "warning" not in err  # nothing left to run, nothing to warn about
