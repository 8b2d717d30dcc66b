"""A trivial experiment for benchmarks/engine.py (loaded through THEORYLAB_PLUGINS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from theorylab.engine.checks import interval_check
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.engine.stats import exact


class TrivialConfig(ExperimentConfig):
    x: int = Field(0, description="grid index (count)")


def trivial_work(x: int, seed: int) -> pd.DataFrame:
    """The whole 'science' of a trivial run: 10 random numbers in a table."""
    return pd.DataFrame({"value": np.random.default_rng(seed + x).random(10)})


class Trivial(Experiment):
    name = "bench-trivial"
    claim = "none (engine overhead benchmark)"
    source = "benchmarks/engine.py"
    check_statement = "none"
    Config = TrivialConfig
    tables = ("values",)

    def run(self, config: TrivialConfig, seed: int) -> dict[str, pd.DataFrame]:
        return {"values": trivial_work(config.x, seed)}

    def check(self, results):
        return self.verdict([interval_check("ran", "runs stored", exact(results.n_runs), above=0,
                                            demonstration=True)])
