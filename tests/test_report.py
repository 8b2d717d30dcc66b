"""The HTML report: escaping, embedded figures, and rendering in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import theorylab
from theorylab.engine.runner import run_sweep

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def report_path(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rep")
    store = root / "store"
    run_sweep("curse-of-dimensionality", preset="smoke", seeds=2, executor="serial", store=store)
    run_sweep("toy-noise", preset="smoke", executor="serial", store=store,
              overrides={"label": "<script>alert('x')</script>"})
    return theorylab.write_report(None, root / "report.html", store=store)


def test_user_text_is_escaped(report_path):
    text = report_path.read_text()
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert" in text


def test_report_has_claim_verdict_figures_and_runs(report_path):
    text = report_path.read_text()
    assert text.count("data:image/png;base64,") >= 2
    assert "Bubeck" in text and "supported" in text
    assert "mean ± 95% CI" in text and "Provenance" in text


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(report_path, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", report_path.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "curse-of-dimensionality" in dom.stdout and dom.stdout.count("<img") >= 2
    r = subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,2400", report_path.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape[0] >= 2000
    # The figures are drawn: matplotlib's C0 blue (31, 119, 180) appears in the page.
    blue = (np.abs(img - np.array([31, 119, 180])).sum(axis=2) < 30).sum()
    assert blue > 200, f"no plotted pixels found ({blue})"
    shutil.copy(shot, Path(report_path).with_suffix(".png"))
