"""Read-only commands stay fast: they import neither torch nor pandas nor scipy.

Timings are a benchmark (benchmarks/cli.py prints them against `import torch`); what a test can
check deterministically is that the heavy libraries are never imported on these paths.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = (
    "import sys, json\n"
    "from theorylab.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'pandas', 'scipy', 'sklearn', 'matplotlib'})\n"
    "print(json.dumps(heavy), file=sys.stderr)\n"
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("fast") / "store"
    subprocess.run([sys.executable, "-m", "theorylab", "run", "toy-noise", "--preset", "smoke", "--executor",
                    "serial", "--store", str(d)], check=True, capture_output=True)
    return d


@pytest.mark.parametrize("args", [["--help"], ["list"], ["list", "--json"], ["show", "curse-of-dimensionality"],
                                  ["status", "--store", "{store}"]])
def test_read_only_commands_import_no_heavy_library(args, store):
    argv = [a.format(store=store) for a in args]
    r = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120)
    heavy = json.loads(r.stderr.strip().splitlines()[-1])
    assert heavy == [], f"`theorylab {' '.join(argv)}` imported {heavy}"
