"""The HTML report: escaping once, structure, readable numbers and notation, and what a reader
sees in a real browser (headless Chromium: figures at a readable size, no overflow, no stray
entities, math typeset)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import theorylab
from theorylab.engine.checks import Verdict, interval_check
from theorylab.engine.registry import get_experiment
from theorylab.engine.runner import run_sweep
from theorylab.engine.stats import Estimate, mean_interval
from theorylab.engine.store import Store
from theorylab.report import ReportEntry, render_notation, render_report
from theorylab.report.html import fmt_mean_pm, fmt_value, runs_table

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
NO_CHROMIUM = ("Chromium not found, so the report is not checked in a browser: install Debian's "
               "`chromium` (`sudo apt-get install chromium`; .ci/run does) or put `chromium` on PATH")
# CI sets this: there a missing browser is a failure, not a skip.
REQUIRE_CHROMIUM = os.environ.get("THEORYLAB_REQUIRE_CHROMIUM", "") not in ("", "0")
HOSTILE_LABEL = "../../etc/passwd \"quoted\" 'single' <script>alert('x')</script> & more"
HOSTILE_NAME = "gap-'q\"<b>bold</b>"  # the store refuses such sweep names; old stores may hold them


# -- a real store: an instrument (curse) and a claim (toy, sweeps of two presets) ---------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rep") / "store"
    run_sweep("curse-of-dimensionality", preset="smoke", seeds=2, executor="serial", store=root)
    run_sweep("toy-noise", preset="smoke", sweep={"x": [0.0, 1.0, 2.5]}, seeds=2, executor="serial", store=root)
    run_sweep("toy-noise", preset="quick", overrides={"label": HOSTILE_LABEL}, executor="serial", store=root)
    return root


@pytest.fixture(scope="module")
def report_path(store) -> Path:
    return theorylab.write_report(None, store.parent / "report.html", store=store)


def test_text_is_escaped_exactly_once(report_path):
    text = report_path.read_text()
    assert "<script" not in text.lower()  # no script at all, user-supplied or ours
    assert "&lt;script&gt;alert(" in text
    for twice in ("&amp;#", "&amp;lt;", "&amp;gt;", "&amp;quot;", "&amp;amp;", "&#x27;"):
        assert twice not in text, twice
    assert "../../etc/passwd" in text


def test_summary_first_then_one_section_per_experiment(report_path):
    text = report_path.read_text()
    claims, instruments = text.index('id="summary-claim"'), text.index('id="summary-instrument"')
    first_section = text.index('<section class="experiment"')
    assert claims < instruments < first_section
    # two toy-noise sweeps (two presets) live in ONE section; curse in its own
    assert len(re.findall(r'<section class="experiment" id="exp-toy-noise-', text)) == 1
    assert len(re.findall(r'<section class="experiment" id="exp-curse-of-dimensionality-', text)) == 1
    assert text.count("<h3>Preset ") == 3
    assert "6 runs: 3 grid points × 2 seeds" in text and "2 runs: 2 seeds" in text
    assert text.count('<figure style="max-width:') == 2 and text.count("data:image/svg+xml;base64,") == 2
    assert "π<sup>d/2</sup>" in text  # the check statement's notation, typeset
    assert "cdn" not in text.lower() and 'src="http' not in text and 'href="http' not in text


def test_constant_columns_are_not_labelled_as_intervals(store):
    exp = get_experiment("curse-of-dimensionality")
    st = Store(store)
    results = st.load_results(exp, st.latest_sweep(exp.name))
    table = runs_table(exp.summarize(results))
    notes = {c.name: c.note for c in table.columns}
    assert notes["mc_fraction"] == "mean ± 95% CI"  # varies over seeds
    assert notes["exact_fraction"] == "" and notes["n_points"] == "" and notes["dim"] == ""
    n_points = [row[[c.name for c in table.columns].index("n_points")] for row in table.rows]
    assert set(n_points) == {"20,000"}  # an integer setting, not 2e+04


# -- pieces ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "html"), [
    ("π^{d/2}/Γ(d/2+1)·2^{-d}", "π<sup>d/2</sup>/Γ(d/2+1)·2<sup>−d</sup>"),
    ("sqrt(n·d/p)", '<span class="radical">√<span class="radicand">n·d/p</span></span>'),
    ("x_i and N(0, I_d); Σ_{k<d}", "x<sub>i</sub> and N(0, I<sub>d</sub>); Σ<sub>k&lt;d</sub>"),
    ("p^(-1/2), 2^-iters, N²/2!", "p<sup>−1/2</sup>, 2<sup>−iters</sup>, N²/2!"),
    ("`rel_tolerance` and n_samples stay", "<code>rel_tolerance</code> and n_samples stay"),
    ("<script>'q' \"d\"", "&lt;script&gt;&#39;q&#39; &#34;d&#34;"),
])
def test_notation(text, html):
    assert str(render_notation(text)) == html


def test_numbers_read_as_numbers():
    assert fmt_value(20000.0, group=True) == "20,000" and fmt_value(20000) == "20000"
    assert fmt_value(0.52388) == "0.5239" and fmt_value(float("nan")) == "n/a" and fmt_value(None) == "none"
    assert fmt_value((1, 2, 3)) == "1, 2, 3" and fmt_value({"10": 1, "2": 0.5}) == "2: 0.5; 10: 1"
    assert fmt_mean_pm(0.78441, 0.7830, 0.7858) == "0.7844 ± 0.0014"
    assert fmt_mean_pm(31460.2, 31290.0, 31630.0) == "31,460 ± 170"
    table = runs_table(pd.DataFrame({"d": [1, 2], "v": [1.0, 2.0], "v_lo": [0.5, 1.5], "v_hi": [1.5, 2.5],
                                     "setting": [7, 7], "n": [3, 3]}))
    assert [(c.name, c.note) for c in table.columns] == [
        ("d", ""), ("v", "mean ± 95% CI"), ("setting", ""), ("runs (n)", "")]
    assert table.rows[0] == ["1", "1.00 ± 0.50", "7", "3"]


def test_every_check_field_is_shown_with_what_would_decide_it():
    est = Estimate(0.2, 0.1, 0.3, 5, 0.95, "t")
    checks = (
        interval_check("gap grows with width", "gap (nats)", est, above=0.5, effect="≥ 0.5 over the control",
                       reference=0.4, reference_source="Smith 2020, Tab. 2", exact=False, point={"width": 64}),
        interval_check("the mean is near zero", "mean − x", mean_interval([0.1, -0.4, 0.5, 0.2, -0.1]),
                       within=(-0.2, 0.2), replicates="training sets"),
        interval_check("sizes add up", "count", Estimate(3.0, 3.0, 3.0, 1, 0.95, "exact"), within=(2.5, 3.5),
                       demonstration=True),
    )
    v = Verdict(experiment="gap-claim", kind="claim", claim="A gap of at least x^2", checks=checks)
    page = render_report([ReportEntry({"name": "gap-claim", "kind": "claim", "claim": v.claim, "source": "Smith",
                                       "check": "", "config": {}}, HOSTILE_NAME, "quick", verdict=v,
                                      runs_done=5, runs_planned=5, seeds=5)])
    assert v.status == "not supported"
    assert "<b>" not in page and "gap-&#39;q&#34;&lt;b&gt;bold&lt;/b&gt;" in page
    assert "0.2 [0.1, 0.3]" in page and "&gt; 0.5" in page and "≥ 0.5 over the control" in page
    assert "Smith 2020, Tab. 2" in page and "(approximate)" in page and "width=64" in page
    assert "Why: measured 0.2 [0.1, 0.3] over 5 seeds" in page
    assert "What would decide it: measured" in page and "training sets" in page
    assert "demonstration</span>" in page and "x<sup>2</sup>" in page
    assert '<span class="badge not-supported">1 not supported</span>' in page


def test_building_a_report_does_not_import_torch(store, tmp_path):
    code = ("import sys, theorylab; theorylab.write_report(None, sys.argv[1], store=sys.argv[2]); "
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]; "
            "assert not bad, bad")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r.html"), str(store)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


# -- in a browser ---------------------------------------------------------------------------------
MEASURE = """<script>
const me = document.currentScript;
addEventListener('load', () => {
  me.remove();  // read only what the report itself shows
  document.querySelectorAll('details').forEach(d => { d.open = true; });  // as a reader who opens them
  const text = document.body.textContent, out = {};
  out.viewport = innerWidth;
  out.scrollWidth = document.documentElement.scrollWidth;
  out.figures = [...document.querySelectorAll('figure img')].map(i => {
    const r = i.getBoundingClientRect(), s = getComputedStyle(i);
    return {w: r.width, h: r.height, right: r.right, natural: i.naturalWidth, ok: i.complete && s.visibility === 'visible'
            && s.display !== 'none', alt: i.alt};
  });
  out.entities = ['&#x27;', '&#39;', '&#34;', '&amp;', '&lt;', '&gt;', '&quot;'].filter(e => text.includes(e));
  out.rawNotation = ['^{', '_{', 'sqrt('].filter(e => text.includes(e));
  out.sups = [...document.querySelectorAll('sup')].map(e => e.textContent);
  out.hostile = text.includes(%(label)s);
  out.injected = document.querySelectorAll('b').length;
  out.external = [...document.querySelectorAll('[src],[href]')].map(e => e.getAttribute('src') || e.getAttribute('href'))
      .filter(u => !u.startsWith('data:') && !u.startsWith('#'));
  const rows = kind => [...document.querySelectorAll('#summary-' + kind + ' + .scroll td.exp')].map(e => e.textContent.trim());
  out.claims = rows('claim'); out.instruments = rows('instrument');
  const pre = document.createElement('pre'); pre.id = 'measured'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _measure(report: Path, tmp_path: Path, width: int) -> dict:
    """Open ``report`` from a file:// URL in headless Chromium at ``width`` CSS px, open every
    <details>, and return what the page shows (measured by a script added to a copy)."""
    if CHROMIUM is None:
        if REQUIRE_CHROMIUM:
            pytest.fail(NO_CHROMIUM + " (THEORYLAB_REQUIRE_CHROMIUM is set)")
        pytest.skip(NO_CHROMIUM)
    page = tmp_path / f"measure-{width}.html"
    def js(s: str) -> str:  # a JS string literal that cannot close the <script> element
        return json.dumps(s).replace("</", "<\\/")

    script = MEASURE % {"label": js(HOSTILE_LABEL)}
    page.write_text(report.read_text().replace("</body>", script + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: any outside fetch would fail
             f"--user-data-dir={tmp_path / f'profile-{width}'}", "--hide-scrollbars",
             f"--window-size={width},900", "--dump-dom", page.as_uri()]
    r = subprocess.run([CHROMIUM, *flags], capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="measured">(.*?)</pre>', r.stdout, re.S)
    assert r.returncode == 0 and m, f"chromium failed (rc {r.returncode}): {r.stderr[-2000:]}"
    return json.loads(html.unescape(m.group(1)))


def test_what_a_reader_sees_in_chromium(report_path, tmp_path):
    m = _measure(report_path, tmp_path, 1280)
    assert m["scrollWidth"] <= m["viewport"], f"page overflows horizontally: {m['scrollWidth']} > {m['viewport']}"
    assert len(m["figures"]) == 2
    for f in m["figures"]:
        assert f["ok"] and f["natural"] > 0, f"figure {f['alt']!r} did not load"
        assert f["w"] >= 600 and f["h"] >= 300, f"figure {f['alt']!r} shown at {f['w']:.0f}×{f['h']:.0f} CSS px"
        assert f["right"] <= m["viewport"], f"figure {f['alt']!r} runs off the page"
    assert not m["entities"], f"escaped twice: {m['entities']} visible as text"
    assert m["hostile"] and m["injected"] == 0, "user text must show as typed and inject nothing"
    assert not m["rawNotation"] and "d/2" in m["sups"], m["sups"]
    assert not m["external"], f"the page references outside resources: {m['external']}"
    assert m["claims"] == ["toy-noise"] and m["instruments"] == ["curse-of-dimensionality"]


def test_no_horizontal_overflow_on_a_narrow_window(report_path, tmp_path):
    m = _measure(report_path, tmp_path, 700)
    assert m["scrollWidth"] <= m["viewport"], f"page overflows horizontally: {m['scrollWidth']} > {m['viewport']}"
    assert all(0 < f["w"] and f["right"] <= m["viewport"] and f["h"] > 0 for f in m["figures"])
