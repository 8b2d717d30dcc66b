"""The command line: list/show/run/status/report, and one-line errors with exit code 2."""

from __future__ import annotations

import json

import pytest


def test_list_and_show(capsys, cli):
    code, out, _ = cli("list", "--json")
    rows = json.loads(out)
    names = {r["name"] for r in rows}
    assert code == 0 and "curse-of-dimensionality" in names
    assert all(r["claim"] and r["source"] and r["kind"] in ("claim", "instrument") for r in rows)
    assert {r["name"]: r["kind"] for r in rows}["curse-of-dimensionality"] == "instrument"
    code, out, _ = cli("show", "curse-of-dimensionality", "--json")
    d = json.loads(out)
    assert d["config"]["n_samples"]["default"] == 400000 and "count" in d["config"]["n_samples"]["description"]
    assert d["kind"] == "instrument"
    assert set(d["presets"]) >= {"smoke", "quick", "full"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "nope"], "unknown experiment 'nope' (allowed:"),
        (["run", "curse-of-dimensionalty"], "did you mean 'curse-of-dimensionality'"),
        (["show", "nope"], "unknown experiment 'nope'"),
        (["run", "toy-noise", "--set", "zz=1"], "unknown config key 'zz' (allowed: crash_on, fail_on, label, n, sleep_s, x)"),
        (["run", "toy-noise", "--set", "n=abc"], "n: Input should be a valid integer"),
        (["run", "toy-noise", "--sweep", "x="], "--sweep x= has an empty value"),
        (["run", "toy-noise", "--sweep", "x=1,,2"], "empty value"),
        (["run", "toy-noise", "--preset", "huge"], "unknown preset 'huge'"),
        (["run", "toy-noise", "--executor", "slurm"], "unknown executor 'slurm' (allowed: serial, process, ray)"),
        (["report", "toy-noise"], "no store at"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, store_dir, args, message, cli):
    code, _, err = cli(*args, *(["--store", str(store_dir)] if args[0] in ("run", "report") else []))
    assert code == 2
    assert message in " ".join(err.split())
    assert "Traceback" not in err
    assert not (store_dir / "runs").exists()  # nothing half-written


def test_run_status_report(capsys, store_dir, tmp_path, cli):
    s = str(store_dir)
    code, out, _ = cli("run", "toy-noise", "--preset", "smoke", "--sweep", "x=1,2", "--executor", "serial",
                        "--store", s, "--name", "toy-noise.smoke")
    assert code == 0 and "4 runs planned, 0 already stored, 4 ran, 0 failed" in " ".join(out.split())
    assert "report:" in out
    code, out, _ = cli("run", "toy-noise", "--preset", "smoke", "--sweep", "x=1,2,3", "--executor", "serial",
                        "--store", s, "--name", "toy-noise.smoke")
    assert code == 2  # the spec changed under a name the user gave
    code, out, _ = cli("run", "toy-noise", "--preset", "smoke", "--set", "fail_on=2", "--sweep", "x=1,2",
                        "--executor", "serial", "--store", s, "--name", "withfail")
    assert code == 1 and "failed" in out
    code, out, _ = cli("status", "--store", s, "--json")
    rows = {r["sweep"]: r for r in json.loads(out)}
    assert rows["toy-noise.smoke"]["done"] == 4 and rows["toy-noise.smoke"]["failed"] == 0
    assert rows["withfail"]["failed"] == 2 and "toy failure at x=2" in rows["withfail"]["errors"][0]["error"]
    assert rows["withfail"]["errors"][0]["point"] == "x=2.0"
    out_html = tmp_path / "r.html"
    code, out, _ = cli("report", "--all", "-o", str(out_html), "--store", s)
    assert code == 0 and out_html.exists()
    text = out_html.read_text()
    assert "toy-noise" in text and "withfail" in text
