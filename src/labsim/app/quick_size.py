""""How large must it be?" on the page: a quick size search in a background process, with progress and
cancel.

The search is `labsim size` itself: the one size job (design/size_job.py), with the scenario's evidence
ranges, the roll-out worlds, the type-I check and the accounts, at settings that answer within seconds
on 2 cores (docs/app.md): fewer pilots per batch, a smaller budget and a wider stated interval. Lower
precision, never less of the answer: the page shows the precision it reached. It runs in a child process of its own (started fresh, never forked from the
server's threads), so a search never holds up the page of this or another tab, and cancelling ends the
process and its workers. The child reports each finished pilot, so the page shows a progress bar with time left.

The page keeps the pilots of its answers (`PilotCache`, design/pilot_cache.py) for its session: the child
gets them and sends them back with the new ones, so a second answer of the same world (the same scenario
but for the places planned, another alpha or power target, the other estimator or another horizon: its
pilots run to the longest horizon) starts from the pilots already run, read as asked, and simulates only
the batches its N* needs; a lever that changes the world runs what is new.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from labsim.config.scenario import Scenario
from labsim.design.pilot_cache import PilotCache
from labsim.design.size import SearchSettings
from labsim.design.size_job import SizeRequest, search_pilots

if TYPE_CHECKING:
    from labsim.design.plan import Plan
    from labsim.design.size_job import SizeRun

#: Quick settings: batches of 10 pilots, 40 in the central search (+10 for the type-I check, 10 for the
#: accounts), stop at +-50 %; the evidence and the roll-out worlds come on top, as in `labsim size`.
QUICK = {"batch": 10, "budget": 40, "precision": 0.5, "type_i_sims": 10}


def quick_settings(workers: int | None = None) -> SearchSettings:
    """The page's search: the planner's usual target (power 80 %, alpha 5 %, 26 weeks), quick budget."""
    return SearchSettings(workers=workers, **QUICK)


def quick_request(scenario: Scenario, s: SearchSettings) -> SizeRequest:
    """The page's question: the size job with the scenario's own evidence ranges, at its primary horizon,
    at the quick settings."""
    from labsim.design.evidence import ranges_of

    return SizeRequest(replace(s, horizon=scenario.design.primary_horizon_weeks), tuple(ranges_of(scenario, [])))


def quick_total(draft, s: SearchSettings) -> int:
    """The most pilots the page's searches simulate for the draft's scenario (its central search alone
    when the draft is not a valid scenario yet: the page says why when it is started)."""
    from labsim.config.errors import LabsimError
    from labsim.design.size import most_pilots

    try:
        return search_pilots(quick_request(draft.scenario(), s))
    except LabsimError:
        return most_pilots(s)


def search(scenario: Scenario, s: SearchSettings, on_pilot: Callable[[], None],
           cache: PilotCache | None = None) -> SizeRun:
    """The size job (design/size_job.py, as `labsim size` runs it) at the quick settings, calling
    `on_pilot` as each simulated pilot of its searches finishes; from and into `cache` if given."""
    from labsim.design.size_job import run_size

    return run_size(scenario, quick_request(scenario, s), on_pilot=on_pilot, cache=cache)


@dataclass(frozen=True)
class PilotDone:
    """The child's message: one more simulated pilot finished."""


@dataclass(frozen=True)
class SearchDone:
    """The child's message: the search finished with this answer (a size search's `SizeRun`, a plan's
    `Plan`), and the session's pilots with this answer's added (`cache`, if it kept them)."""

    answer: SizeRun | Plan
    cache: PilotCache | None = None


@dataclass(frozen=True)
class SearchFailed:
    """The child's message: the search stopped with this error, said for the page."""

    message: str


def _child(scenario: Scenario, s: SearchSettings, cache: PilotCache | None, conn) -> None:
    """The child process: run the search (from the session's pilots in `cache`), send a `PilotDone` per
    pilot, then `SearchDone` (with the cache) or `SearchFailed`."""
    try:
        done = search(scenario, s, lambda: conn.send(PilotDone()), cache)
        conn.send(SearchDone(done, cache))
    except Exception as err:  # the page shows it; the server goes on
        conn.send(SearchFailed(f"{type(err).__name__}: {err}" if not str(err) else str(err)))
    finally:
        conn.close()


@dataclass
class JobProgress:
    """Where a search is: pilots done of at most `total`, seconds spent and the estimated time left."""

    done: int
    total: int
    elapsed: float

    @property
    def share(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0

    @property
    def seconds_left(self) -> float | None:
        return self.elapsed / self.done * (self.total - self.done) if self.done else None


class SizeJob:
    """One search in a child process; `poll()` follows it from a thread of the page's session."""

    def __init__(self, scenario: Scenario, s: SearchSettings, cache: PilotCache | None = None) -> None:
        self.settings, self.cache = s, cache
        self._start(scenario, search_pilots(quick_request(scenario, s)), _child, (scenario, s, cache))
        self.answer: SizeRun | None = None

    def _start(self, scenario: Scenario, total: int, target: Callable, args: tuple) -> None:
        """Start `target(*args, conn)` in a fresh process; it sends a `PilotDone` per pilot, then
        `SearchDone` with its answer or `SearchFailed`."""
        self.scenario, self.total, self.done = scenario, total, 0
        self.started = time.monotonic()
        self.answer = None
        self.error: str | None = None
        self.cancelled = threading.Event()
        context = multiprocessing.get_context("spawn")  # the server is threaded: never fork it
        self._conn, child = context.Pipe(duplex=False)
        # not a daemon: the search starts a pool of worker processes; `stop` ends it instead
        self._process = context.Process(target=target, args=(*args, child))
        self._process.start()
        child.close()

    def progress(self) -> JobProgress:
        return JobProgress(self.done, self.total, time.monotonic() - self.started)

    def follow(self, on_update: Callable[[SizeJob], None]) -> None:
        """Read the child's messages until it finishes or is cancelled, calling `on_update` after each."""
        try:
            while not self.cancelled.is_set():
                if not self._conn.poll(0.25):
                    if not self._process.is_alive() and not self._conn.poll():
                        self.error = f"the search stopped unexpectedly (exit code {self._process.exitcode})"
                        break
                    continue
                match self._conn.recv():
                    case PilotDone():
                        self.done += 1
                    case SearchDone(answer, cache):
                        self.answer = answer
                        if cache is not None and getattr(self, "cache", None) is not None:
                            self.cache.__dict__.update(vars(cache))  # the session's pilots, this answer's added
                        break
                    case SearchFailed(message):
                        self.error = message
                        break
                on_update(self)
        except (EOFError, OSError):
            self.error = "the search stopped unexpectedly"
        finally:
            self.stop()
        on_update(self)

    def cancel(self) -> None:
        self.cancelled.set()
        self.stop()

    def stop(self) -> None:
        """End the child process (its pool's workers end with it)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=5)
        self._conn.close()


def write_answer(job: SizeJob, source: str) -> Path:
    """The finished search as a `labsim size` folder (size.json, power curve, replications), in a fresh
    temporary folder, for the report layer to read."""
    from labsim.design.output import write_size_folder

    out = Path(tempfile.mkdtemp(prefix="labsim-app-size-")) / "size"
    return write_size_folder(out, job.answer, job.scenario, source=source, overrides=[])


def discard_answer(folder: Path) -> None:
    """Remove the temporary folder `write_answer` made, once the page no longer shows its answer."""
    if folder.parent.name.startswith("labsim-app-size-"):
        shutil.rmtree(folder.parent, ignore_errors=True)
