"""Toy experiments for engine tests (loaded through THEORYLAB_PLUGINS, never by users)."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
from pydantic import Field

from theorylab.engine.checks import interval_check
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.engine.stats import mean_interval


class ToyConfig(ExperimentConfig):
    x: float = Field(1.0, description="location of the noise (units)")
    n: int = Field(50, ge=1, description="draws per run")
    sleep_s: float = Field(0.0, ge=0, description="seconds to sleep per run (to test kill/resume)")
    fail_on: float | None = Field(None, description="raise when x equals this")
    crash_on: float | None = Field(None, description="kill the worker process when x equals this")
    label: str = Field("toy", description="free text, shown in reports (escaping test)")


class ToyNoise(Experiment):
    name = "toy-noise"
    claim = "The mean of N(x, 1) draws is x."
    source = "theorylab engine tests"
    check_statement = "the 95% interval over seeds of (mean − x) lies within ±0.5"
    Config = ToyConfig
    presets = {"smoke": {"n": 20}}
    default_seeds = {"smoke": 2, "quick": 2, "full": 3}
    budget_s = 5.0
    tables = ("draws", "summary")

    def run(self, config: ToyConfig, seed: int) -> dict[str, pd.DataFrame]:
        if config.fail_on is not None and config.x == config.fail_on:
            raise RuntimeError(f"toy failure at x={config.x}")
        if config.crash_on is not None and config.x == config.crash_on:
            os._exit(3)  # a worker dying without a Python exception (like a segfault or OOM kill)
        if config.sleep_s:
            time.sleep(config.sleep_s)
        rng = np.random.default_rng(seed)
        v = rng.normal(config.x, 1.0, config.n)
        return {
            "draws": pd.DataFrame({"i": np.arange(config.n), "value": v}),
            "summary": pd.DataFrame({"mean": [v.mean()], "err": [v.mean() - config.x]}),
        }

    def check_point(self, results):
        est = mean_interval(results.table("summary")["err"])
        return [interval_check("mean error is zero", "mean − x", est, within=(-0.5, 0.5), reference=0.0,
                               exact=True, effect="agreement within ±0.5")]
