"""The replication runner: many independent simulated pilots, in parallel, reproducibly.

Every command that simulates more than one pilot (`labsim sweep`, `diagnose`, `size`) goes through
`run_tasks`. A task is a small picklable value with a `key` (a tuple of whole numbers, such as
(point, replication) or (size, replication)); its random numbers come from
`SeedSequence(root_seed, spawn_key=key)`, so a task's result depends only on the root seed and its key,
never on how many workers ran it, in which order, or on which engine. Workers get the task and return a
small record (a dict of numbers or a small frame), never a model.

Engines: `local` runs in this process (1 worker) or on a pool of local processes; `dask` runs on a
`dask.distributed` cluster (the scheduler at an address: `--scheduler`, else the environment's
`DASK_SCHEDULER_ADDRESS`; without either, a local cluster) through `Client.get_executor()`, the same
`concurrent.futures` interface. Every heavy command (sweep, size, diagnose, sensitivity, calibrate, plan)
takes `--engine local|dask` and `--scheduler`, and gives the same numbers on either.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from labsim.config.errors import LabsimError

Engine = Literal["local", "dask"]
ENGINES = ("local", "dask")
#: Where `--engine dask` finds its scheduler when `--scheduler` is not given (Dask's own variable).
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
#: Dask's setting of the environment its nanny gives a worker before starting it, and the variables of it a
#: local cluster's workers start without (see `executor`).
NANNY_ENV = "distributed.nanny.pre-spawn-environ"
DROPPED_WORKER_ENV = ("MALLOC_TRIM_THRESHOLD_",)


@dataclass(frozen=True)
class Task:
    """One replication to run: `key` decides its seed; `payload` is what the function needs."""

    key: tuple[int, ...]
    payload: Any = None
    #: Tasks with the same home run on the same worker (local; on a Dask cluster, preferably), which keeps
    #: the world they share burned in (`design.world_cache`): each world is burned in once, not once per
    #: worker. None: any worker.
    home: int | None = None


def seed_for(root_seed: int, key: tuple[int, ...]) -> np.random.SeedSequence:
    """The seed of the task with this key: independent streams for every key, from one root."""
    return np.random.SeedSequence(root_seed, spawn_key=tuple(int(k) for k in key))


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def executor(engine: Engine = "local", workers: int | None = None, scheduler: str | None = None):
    """An executor for the engine: None for a single local worker (run in this process). With `dask`,
    the scheduler at `scheduler` (else at `$DASK_SCHEDULER_ADDRESS`), or a local cluster of `workers`."""
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise LabsimError(f"--workers must be 1 or more (got {workers})")
    if engine == "local":
        if scheduler:
            raise LabsimError("--scheduler needs --engine dask")
        if workers == 1:
            yield None
            return
        # forkserver: fresh workers (fork from a threaded parent can deadlock); each imports labsim once
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["labsim.world.model", "labsim.results.summary"])
        pool = WorkerSet(workers, context)
        try:
            yield pool
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return
    if engine != "dask":
        raise LabsimError(f"--engine must be 'local' or 'dask' (got {engine!r})")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise LabsimError(
            "the dask engine needs dask.distributed: pip install 'labsim[dask]'"
        ) from None
    # pure=False: every task runs, even two with equal arguments (keys differ anyway)
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if scheduler:
        try:
            client = Client(scheduler, timeout=30)
        except (OSError, ValueError) as err:  # unreachable, timed out, or not an address
            raise LabsimError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({err})") from None
        with client:
            yield client.get_executor(pure=False)
    else:
        import dask

        # Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536 (`distributed.nanny.pre-spawn-environ`),
        # which turns off glibc's adaptive mmap threshold: every large numpy array of a pilot is then mapped
        # and unmapped afresh, page faults and all (a 2-worker cluster ran size at 0.73x the speed of 2 local
        # processes, 0.89x without it; docs/performance.md, "One engine"). Workers start with this process's
        # environment instead, as local ones do.
        with dask.config.set({f"{NANNY_ENV}.{name}": None for name in DROPPED_WORKER_ENV}), \
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                             dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                Client(cluster) as client:
            yield client.get_executor(pure=False)


class WorkerSet(Executor):
    """Local worker processes, each with a queue of its own, so that a task can be sent to the worker
    that already holds its world (`Task.home`); a task without a home goes to the least busy worker."""

    def __init__(self, workers: int, context) -> None:
        self._max_workers = workers
        self._pools = [ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_worker_start,
                                           initargs=(os.getpid(),)) for _ in range(workers)]
        self._busy = [0] * workers
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, home: int | None = None, **kwargs) -> Future:
        with self._lock:
            i = home % len(self._pools) if home is not None else self._busy.index(min(self._busy))
            self._busy[i] += 1
        future = self._pools[i].submit(fn, *args, **kwargs)
        future.add_done_callback(lambda _: self._done(i))
        return future

    def _done(self, i: int) -> None:
        with self._lock:
            self._busy[i] -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for pool in self._pools:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def _worker_start(parent: int) -> None:
    """A local worker ignores Ctrl-C (the parent alone stops, cancelling what has not started) and
    exits when the parent dies, even by kill -9, instead of lingering."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    try:
        handle = os.pidfd_open(parent)  # Linux: readable once the parent has ended
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # elsewhere: look every second
        while True:
            time.sleep(1)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass
    select.select([handle], [], [])
    os._exit(1)


def slots(pool: Executor | None) -> int:
    """How many tasks the pool runs at once: its processes, or the Dask cluster's worker threads now."""
    if pool is None:
        return 1
    if isinstance(pool, WorkerSet | ProcessPoolExecutor):
        return pool._max_workers
    client = getattr(pool, "_client", None)  # a Dask ClientExecutor
    if client is not None:
        return max(sum(client.nthreads().values()), 1)
    return default_workers()


def _call(fn: Callable[[Task, np.random.SeedSequence], Any], task: Task, root_seed: int) -> Any:
    return fn(task, seed_for(root_seed, task.key))


def _call_chunk(fn: Callable[[Task, np.random.SeedSequence], Any], chunk: list[Task], root_seed: int) -> list:
    """Several tasks in one trip to a worker (each with its own seed, so the results are the same)."""
    return [_call(fn, task, root_seed) for task in chunk]


def chunk_size(pool: Executor | None, total: int | None) -> int:
    """Tasks sent to a worker at a time: 1 on local processes (cheap to send, best balanced); on a Dask
    cluster, where each task costs the scheduler milliseconds, about four chunks per worker thread,
    at most 16 tasks each."""
    if pool is None or isinstance(pool, WorkerSet | ProcessPoolExecutor) or not total:
        return 1
    return max(1, min(16, total // (4 * slots(pool))))


def _chunks(tasks: Iterator[Task], size: int) -> Iterator[list[Task]]:
    while chunk := list(itertools.islice(tasks, size)):
        yield chunk


def _homed_chunks(tasks: Iterator[Task], size: int, workers: int) -> Iterator[tuple[int | None, list[Task]]]:
    """Chunks of up to `size` tasks that share a worker: (home mod `workers`, chunk) for tasks with a home,
    (None, chunk) for the others; each chunk goes out as soon as it is full, the rest at the end."""
    held: dict[int | None, list[Task]] = {}
    for task in tasks:
        slot = None if task.home is None else task.home % workers
        chunk = held.setdefault(slot, [])
        chunk.append(task)
        if len(chunk) == size:
            yield slot, held.pop(slot)
    yield from held.items()


def _dask_workers(pool: Executor) -> list[str] | None:
    """The addresses of a Dask cluster's workers now, in a fixed order (None for other pools)."""
    client = getattr(pool, "_client", None)
    return sorted(client.nthreads()) if client is not None else None  # every worker, in any version


class ProgressBar:
    """One progress bar, with time left, over work done in several calls of `run_tasks` (a size
    search's batches, or a sweep's chunks); status lines are printed above it without breaking it.
    Shown only on an interactive terminal."""

    def __init__(self, total: int | None, desc: str, unit: str = "pilot", enabled: bool = True) -> None:
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: this process stays single-threaded, safe to fork
        self.shown = enabled and sys.stderr.isatty()
        self.bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not self.shown)
        self.done = 0  # counted here too: a hidden tqdm bar counts nothing

    def describe(self, desc: str) -> None:
        """What the work now under way is (e.g. the size being tried)."""
        self.bar.set_description_str(desc)

    def update(self, n: int = 1) -> None:
        self.done += n
        self.bar.update(n)

    def finish(self) -> None:
        """The work is done: the total becomes what was done (a search that stops before its budget
        ends at 100 %)."""
        self.bar.total = self.done
        self.bar.refresh()

    def status(self, message: str) -> None:
        """A status line above the bar (on stderr, also when the bar is hidden)."""
        if self.shown:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def run_tasks(
    fn: Callable[[Task, np.random.SeedSequence], Any],
    tasks: Iterable[Task],
    *,
    root_seed: int,
    pool: Executor | None = None,
    progress: str | ProgressBar | None = None,
    total: int | None = None,
    ahead: int | None = None,
    unit: str = "pilot",
    chunk: int | None = None,
) -> Iterator[tuple[Task, Any]]:
    """Run `fn(task, seed)` for every task; yield (task, result) as each finishes (any order).

    `fn` must be a module-level function (workers import it). Tasks go to the workers `chunk` at a time
    (default `chunk_size`: one on local processes, several on a Dask cluster, so that short replications
    are not dominated by scheduling); a chunk's results are yielded when it finishes. At most `ahead`
    chunks are in flight (default: twice the pool's `slots`, looked up again every few seconds as a
    cluster may grow), so memory stays bounded however many tasks there are; `tasks` may be a lazy
    iterator. If the caller stops early (an error, Ctrl-C, closing the generator), tasks not yet started
    are cancelled. `progress` names a progress bar of `total` `unit`s (with time left) shown on an
    interactive terminal, or is a `ProgressBar` the caller keeps across calls.
    """
    tasks = iter(tasks)
    own = not isinstance(progress, ProgressBar)
    bar = ProgressBar(total, progress or "", unit, enabled=progress is not None) if own else progress
    running: dict[Future, list[Task]] = {}
    try:
        if pool is None:
            for task in tasks:
                result = _call(fn, task, root_seed)
                bar.update()
                yield task, result
            return
        size = chunk or chunk_size(pool, total)
        if size < 1:
            raise LabsimError(f"a chunk must hold 1 task or more (got {size})")
        limit, looked = ahead or 2 * slots(pool), time.monotonic()
        # a Dask cluster: the chunks of a home go to one worker (by preference: another may take them if it
        # leaves), so that each world is burned in once there too
        addresses = _dask_workers(pool)
        parts = _homed_chunks(tasks, size, len(addresses)) if addresses else ((None, c) for c in _chunks(tasks, size))
        for slot, part in parts:
            if isinstance(pool, WorkerSet):
                running[pool.submit(_call_chunk, fn, part, root_seed, home=part[0].home)] = part
            elif slot is not None:
                running[pool.submit(_call_chunk, fn, part, root_seed, workers=[addresses[slot]],
                                    allow_other_workers=True)] = part
            else:
                running[pool.submit(_call_chunk, fn, part, root_seed)] = part
            if len(running) >= limit:
                yield from _drain(running, bar, FIRST_COMPLETED)
                if ahead is None and time.monotonic() - looked > 5:  # a cluster may grow or shrink
                    limit, looked = 2 * slots(pool), time.monotonic()
        while running:
            yield from _drain(running, bar, FIRST_COMPLETED)
    finally:
        for future in running:
            future.cancel()
        if own:
            bar.close()


def _drain(running: dict[Future, list[Task]], bar, when) -> Iterator[tuple[Task, Any]]:
    done, _ = wait(running, return_when=when)
    for future in done:
        part = running.pop(future)
        results = future.result()
        bar.update(len(part))
        yield from zip(part, results)
