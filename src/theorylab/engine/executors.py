"""Serial, process and Ray execution behind one submit-and-collect interface.

Every backend runs :func:`execute_run` on a :class:`~theorylab.engine.sweep.RunSpec` and
yields :class:`RunOutcome` objects as runs finish. A run executes with one BLAS/torch thread
in every backend, so the same seed gives bit-identical tables whichever executor ran it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from theorylab.engine.config import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from theorylab.engine.sweep import RunSpec

__all__ = [
    "EXECUTORS",
    "Executor",
    "ProcessExecutor",
    "RayExecutor",
    "RunOutcome",
    "SerialExecutor",
    "check_workers",
    "execute_run",
    "make_executor",
]


@dataclass
class RunOutcome:
    """What a worker hands back: the tables or the error, with timings and host facts."""

    run_id: str
    status: str  # "done" | "failed"
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    host: str = ""
    pid: int = 0

    @property
    def duration_s(self) -> float:
        return self.finished - self.started


def _validate_tables(name: str, tables: Any) -> dict[str, pd.DataFrame]:
    import pandas as pd

    if not isinstance(tables, dict) or not tables:
        raise TypeError(f"{name}.run must return a non-empty dict of DataFrames, got {type(tables).__name__}")
    for k, v in tables.items():
        if not isinstance(k, str) or not isinstance(v, pd.DataFrame):
            raise TypeError(f"{name}.run returned table {k!r} of type {type(v).__name__}; expected DataFrame")
    return tables


@lru_cache(maxsize=1)
def _threadpools() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # finding the BLAS libraries is slow: do it once per process


_SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def execute_run(spec: RunSpec) -> RunOutcome:
    """Run one planned run in this process with one thread; never raises.

    The experiment is looked up in the registry by name (workers import only its module). One
    BLAS/OpenMP/torch thread: results must not depend on the executor's parallelism (the
    reduction order of a multi-threaded sum does). torch is limited if it is already loaded, and
    the OpenMP environment makes a torch first imported inside the run start single-threaded.
    """
    from theorylab.engine.registry import get_experiment

    started = time.time()
    torch = sys.modules.get("torch")
    prev_threads = torch.get_num_threads() if torch is not None else None
    saved_env = {k: os.environ.get(k) for k in _SINGLE_THREAD_ENV}
    os.environ.update(_SINGLE_THREAD_ENV)
    try:
        exp = get_experiment(spec.experiment)
        with _threadpools().limit(limits=1):
            if torch is not None:
                torch.set_num_threads(1)
            tables = _validate_tables(spec.experiment, exp.run(spec.config, spec.seed))
        return RunOutcome(spec.run_id, "done", tables, None, started, time.time(), platform.node(), os.getpid())
    except Exception:
        return RunOutcome(
            spec.run_id, "failed", {}, traceback.format_exc(limit=20), started, time.time(),
            platform.node(), os.getpid(),
        )
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(prev_threads or os.cpu_count() or 1)


class Executor(Protocol):
    """Submit runs, collect outcomes as they finish; ``close`` releases workers."""

    name: str

    def map_unordered(self, specs: Iterable[RunSpec]) -> Iterator[RunOutcome]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """In-process, one run after another: for debugging, tests and tiny sweeps."""

    name = "serial"

    def map_unordered(self, specs: Iterable[RunSpec]) -> Iterator[RunOutcome]:
        for s in specs:
            yield execute_run(s)

    def close(self) -> None:
        pass


PARENT_POLL_S = 0.25  # how often a worker checks that its driver is still alive (seconds)


def _worker_init(driver_pid: int, pdeathsig: bool) -> None:
    """Run in each pool worker before any run: ignore Ctrl-C, die with the driver.

    Ctrl-C reaches the whole process group: the driver handles it and shuts the pool down, so
    workers ignore it instead of printing a KeyboardInterrupt traceback each. A driver killed
    with ``kill -9`` cannot shut its pool down: each worker watches for that itself (its parent
    pid changes when the driver dies) and exits, which also ends multiprocessing's resource
    tracker (it exits when the last process holding its pipe does). On Linux the kernel is asked
    as well (``PR_SET_PDEATHSIG``), which works even while a run holds the GIL.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if pdeathsig and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    threading.Thread(target=_exit_with_parent, args=(driver_pid,), name="theorylab-parent-watch",
                     daemon=True).start()


def _exit_with_parent(driver_pid: int) -> None:
    while os.getppid() == driver_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(70)  # the driver is gone: nobody will read this worker's results


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """Block SIGINT in the main thread while worker processes or helper threads are started.

    A child inherits the blocked mask through fork and exec, so a Ctrl-C during its start-up
    (before :func:`_worker_init` runs) cannot print a traceback from it; in the driver the
    signal stays pending and is delivered when the block ends, so no Ctrl-C is lost. Threads
    started inside inherit the mask too: a process-directed SIGINT goes to any thread that does
    not block it, and a helper thread that accepted it would raise KeyboardInterrupt in the main
    thread between spawning a worker and sending it its start-up data (the worker then prints
    EOFError) — so every thread the driver starts is started inside this block.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_DIED = "worker process died while running this run (killed, crashed or out of memory)"


class ProcessExecutor:
    """A local process pool (``spawn``), one worker per core by default.

    A worker that dies (``kill -9``, segfault, out of memory) breaks the pool: it is rebuilt and
    the runs that were in flight are retried one at a time, so only the run that kills its
    worker is recorded as failed (with the reason) and the sweep goes on.
    """

    name = "process"

    def __init__(self, max_workers: int | None = None) -> None:
        check_workers(max_workers)
        self.max_workers = max_workers or os.cpu_count() or 1
        self._pool: Any = None

    def _new_pool(self) -> Any:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # Spawned workers inherit the environment: single-threaded BLAS/OpenMP from their first
        # import (setting it inside a worker after numpy is loaded has no effect).
        for k, v in _SINGLE_THREAD_ENV.items():
            os.environ.setdefault(k, v)
        main = threading.current_thread() is threading.main_thread()  # PDEATHSIG follows the spawning thread
        return ProcessPoolExecutor(self.max_workers, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                                   initargs=(os.getpid(), main))

    def _submit(self, spec: RunSpec) -> Any:
        with sigint_blocked():  # workers start here (the pool spawns them on demand)
            return self._pool.submit(execute_run, spec)

    def map_unordered(self, specs: Iterable[RunSpec]) -> Iterator[RunOutcome]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pending = list(specs)
        isolate = False  # after a worker died: run the affected runs one at a time
        while pending:
            self._pool = self._pool or self._new_pool()
            if isolate:
                # One run in flight: if the worker dies now, this run killed it.
                spec = pending.pop(0)
                try:
                    yield self._submit(spec).result()
                except BrokenProcessPool:
                    self._drop_pool()
                    now = time.time()
                    yield RunOutcome(spec.run_id, "failed", {}, _DIED, now, now)
                except Exception:
                    now = time.time()
                    yield RunOutcome(spec.run_id, "failed", {}, traceback.format_exc(limit=20), now, now)
                continue
            futures = {self._submit(s): s for s in pending}
            pending = []
            not_done = set(futures)
            while not_done:
                done, not_done = wait(not_done, return_when=FIRST_COMPLETED)
                for fut in done:
                    spec = futures[fut]
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        pending.append(spec)  # maybe innocent: retried in isolation below
                    except Exception:
                        now = time.time()
                        yield RunOutcome(spec.run_id, "failed", {}, traceback.format_exc(limit=20), now, now)
            if pending:
                self._drop_pool()
                isolate = True

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Stop now (Ctrl-C): terminate the workers; runs in flight are lost, none is recorded."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for p in list(getattr(pool, "_processes", {}).values()):
            p.terminate()
        pool.shutdown(wait=False, cancel_futures=True)


class RayExecutor:
    """Ray tasks: connects to ``address`` (a running cluster) or starts a local instance.

    Each task asks for one CPU; results come back as they finish (``ray.wait``).
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError as e:  # pragma: no cover - ray is an optional extra
            raise RuntimeError("the ray executor needs Ray: pip install 'theorylab[ray]'") from e
        self._ray = ray
        self._started_here = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                ray.init(address=address, **kwargs)
            else:
                ray.init(num_cpus=num_cpus, **kwargs)
            self._started_here = True
        self._remote = ray.remote(num_cpus=1, max_retries=0)(execute_run)

    def map_unordered(self, specs: Iterable[RunSpec]) -> Iterator[RunOutcome]:
        ray = self._ray
        refs = {self._remote.remote(s): s for s in specs}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                spec = refs[ref]
                try:
                    yield ray.get(ref)
                except Exception:
                    now = time.time()
                    yield RunOutcome(spec.run_id, "failed", {}, traceback.format_exc(limit=20), now, now)

    def close(self) -> None:
        if self._started_here and self._ray.is_initialized():
            self._ray.shutdown()


EXECUTORS = ("serial", "process", "ray")


def max_workers_allowed() -> int:
    """The most local workers accepted: 4 per core, at least 32 (more is a typo, not a plan)."""
    return max(32, 4 * (os.cpu_count() or 1))


def check_workers(max_workers: object, *, local: bool = True) -> None:
    """Refuse a worker count that is not a positive integer, or (``local``) absurd for this machine."""
    if max_workers is None:
        return
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ConfigError(f"--workers must be a positive integer (leave it out for one per core), got {max_workers!r}")
    if local and max_workers > max_workers_allowed():
        raise ConfigError(f"--workers {max_workers} is more than {max_workers_allowed()} (4 per core here, at "
                          "least 32); each worker is a process that holds a run in memory")


def make_executor(name: str, *, max_workers: int | None = None, ray_address: str | None = None) -> Executor:
    """Build an executor by name; :class:`ConfigError` lists the allowed names or a bad worker count.

    ``max_workers``: parallel workers (``None``: one per core); a worker count is checked for every
    executor, even the serial one that does not use it, so a typo never passes silently.
    """
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r} (allowed: {', '.join(EXECUTORS)})")
    check_workers(max_workers, local=not (name == "ray" and ray_address))  # a Ray cluster sizes itself
    if name == "serial":
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(max_workers)
    return RayExecutor(ray_address, max_workers)
