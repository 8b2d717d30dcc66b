"""A trivial experiment for benchmarks/engine.py (loaded through THEORYLAB_PLUGINS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Check, Experiment, Results, Verdict, register


class TrivialConfig(ExperimentConfig):
    x: int = Field(0, description="grid index (count)")


def trivial_work(x: int, seed: int) -> pd.DataFrame:
    """The whole 'science' of a trivial run: 10 random numbers in a table."""
    return pd.DataFrame({"value": np.random.default_rng(seed + x).random(10)})


@register
class Trivial(Experiment):
    name = "bench-trivial"
    claim = "none (engine overhead benchmark)"
    source = "benchmarks/engine.py"
    check_statement = "none"
    Config = TrivialConfig
    tables = ("values",)

    def run(self, config: TrivialConfig, seed: int) -> dict[str, pd.DataFrame]:
        return {"values": trivial_work(config.x, seed)}

    def check(self, results: Results) -> Verdict:
        return self.verdict([Check(statement="ran", quantity="runs", measured=float(results.n_runs),
                                   threshold="> 0", status="supported", n=results.n_runs)])
