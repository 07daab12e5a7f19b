"""Running an experiment: every point x replication through the one runner, into a results store.

Replication `r` of point `p` draws its random numbers from `SeedSequence(root seed, spawn_key=(p, r))`
whatever the engine, the number of workers or the order in which chunks finish, so a sweep's rows are
the same however it is run, interrupted and resumed. Each row is the run's summary flattened
(`labsim.results.summary.RunSummary.flat`) with `point`, `replication`, `seed_key`, one column per varied
field (its dotted path) and `error` (empty unless the replication raised: failures are data, the sweep
goes on).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import numpy as np

from labsim import __version__
from labsim.config.errors import ScenarioError
from labsim.config.experiment import ExperimentPlan
from labsim.config.scenario import Scenario, scenario_to_dict
from labsim.results.output import RECORDED_PACKAGES, check_writable, package_versions
from labsim.sweep.runner import Engine, Task, executor, run_tasks, slots
from labsim.sweep.store import Chunk, Store, chunk_key

#: Columns every row has before the varied fields, `error` and the summary.
ID_COLUMNS = ("point", "replication", "seed_key")


def run_replication(task: Task, seed: np.random.SeedSequence) -> dict[str, Any]:
    """One simulated pilot of a point's scenario: its flat summary, or the error it raised."""
    from labsim.results.summary import results_of
    from labsim.world.model import PilotModel

    scenario: Scenario = task.payload
    try:
        model = PilotModel(scenario, rng=seed)
        model.run_for(scenario.weeks)
        summary = results_of(model).summary.flat()
    except Exception as err:  # recorded as data; the sweep goes on
        return {"error": f"{type(err).__name__}: {err}"}
    return {"error": None, **summary}


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did: how much it ran and what the folder now holds."""

    folder: Path
    points: int
    replications: int
    rows: int
    failed: int
    chunks_run: int
    chunks_total: int
    seconds: float
    already_finished: bool = False


def chunks_of(plan: ExperimentPlan) -> list[Chunk]:
    """Every point's replications in blocks of the experiment's `chunk` size."""
    exp = plan.experiment
    chunks = []
    for point in plan.points:
        resolved = scenario_to_dict(point.scenario)
        for start in range(0, exp.replications, exp.chunk):
            stop = min(start + exp.chunk, exp.replications)
            key = chunk_key(__version__, exp.seed, resolved, point.index, start, stop)
            chunks.append(Chunk(point.index, start, stop, key))
    return chunks


def identity(plan: ExperimentPlan) -> dict[str, Any]:
    """What must not change between a sweep and its resumption."""
    exp = plan.experiment.model_dump(mode="json", exclude={"name", "description", "scenario"})
    return {"labsim_version": __version__, "base_scenario": scenario_to_dict(plan.base), **exp}


def sweep_manifest(plan: ExperimentPlan, chunks: list[Chunk]) -> dict[str, Any]:
    """The experiment as run, for the record: identity, points, seeds, software."""
    import platform
    import sys
    from datetime import UTC, datetime

    exp = plan.experiment
    return {
        "labsim_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": plan.source,
        "name": exp.name,
        "description": exp.description,
        "base_scenario_file": exp.scenario,
        "scenario": scenario_to_dict(plan.base),  # the base world as resolved: the report's assumptions
        "root_seed": exp.seed,
        "seeds": "replication r of point p: numpy SeedSequence(root_seed, spawn_key=(p, r))",
        "replications": exp.replications,
        "chunks": len(chunks),
        "factors": plan.factors,
        "points": [{"point": p.index, "values": p.values} for p in plan.points],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions((*RECORDED_PACKAGES, "dask", "distributed")),
        "identity": identity(plan),
    }


def _cell(value: Any) -> Any:
    """A varied field's value as a table cell: lists and tables as their JSON text."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _row(plan: ExperimentPlan, point: int, replication: int, result: dict[str, Any]) -> dict[str, Any]:
    """A finished replication as a row, with the outputs the experiment keeps."""
    keep = plan.experiment.outputs.keep
    kept = {k: v for k, v in result.items() if k != "error" and any(fnmatchcase(k, p) for p in keep)}
    values = {p: _cell(v) for p, v in plan.points[point].values.items()}
    ids = dict(zip(ID_COLUMNS, (point, replication, f"{point},{replication}")))
    return {**ids, **values, "error": result.get("error"), **kept}


def check_outputs(plan: ExperimentPlan) -> None:
    """Refuse `outputs.keep` patterns that match no figure, before anything runs: a tiny run of the base
    scenario (a few hundred people, two weeks) shows the figures a run gives."""
    keep = plan.experiment.outputs.keep
    if keep == ["*"]:
        return
    tiny = plan.base.with_values({"area.job_seekers": 300, "area.burn_in_weeks": 0, "weeks": 2}, plan.source)
    figures = [k for k in run_replication(Task((0, 0), tiny), np.random.SeedSequence(0)) if k != "error"]
    for pattern in keep:
        if figures and not any(fnmatchcase(k, pattern) for k in figures):
            tops = sorted({k.split(".")[0] for k in figures})
            raise ScenarioError(plan.source, "outputs.keep",
                                f"'{pattern}' matches no output of a run; outputs start with: {', '.join(tops)}")


def run_sweep(
    plan: ExperimentPlan,
    out: str | Path,
    *,
    engine: Engine = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = False,
    on_start: Callable[[], object] | None = None,
) -> SweepReport:
    """Run every point x replication of the plan not yet in the store at `out`; compact at the end.

    Without `resume` the folder must not exist; with it, the folder's manifest must match the plan,
    the store is repaired (`Store.repair`) and only the chunks without a good part are run (nothing at
    all if the sweep has finished). `on_start` is called once every check has passed and the engine is
    up, before any work.
    """
    t0 = time.perf_counter()
    store = Store(out)
    chunks = chunks_of(plan)
    exp = plan.experiment
    n_points = len(plan.points)
    if resume:
        store.check_same(identity(plan))
        store.repair(chunks)
        if store.finished():
            rows, failed = _counts(store)
            return SweepReport(store.folder, n_points, exp.replications, rows, failed, 0,
                               len(chunks), time.perf_counter() - t0, already_finished=True)
        store.clean()
    else:
        store.check_new()
        check_writable(store.folder)
    check_outputs(plan)

    todo = [c for c in chunks if not resume or not store.done(c)]
    with executor(engine, workers, scheduler) as pool:  # a bad engine or scheduler stops here, folder untouched
        if on_start is not None:  # the engine is up too: a header is never followed by a refusal
            on_start()
        if not resume:
            store.create(sweep_manifest(plan, chunks))
        store.log("start", resumed=resume, chunks_total=len(chunks), chunks_to_run=len(todo),
                  engine=engine, workers=slots(pool), scheduler=scheduler)
        _run_chunks(plan, store, todo, pool, progress)
    store.compact(chunks)
    rows, failed = _counts(store)
    store.log("finished", rows=rows, failed=failed)
    return SweepReport(store.folder, n_points, exp.replications, rows, failed, len(todo), len(chunks),
                       time.perf_counter() - t0)


def _counts(store: Store) -> tuple[int, int]:
    """Rows and failed replications in the store."""
    errors = store.read(columns=["error"])
    return errors.num_rows, errors.num_rows - errors.column("error").null_count if errors.num_rows else 0


def _run_chunks(plan: ExperimentPlan, store: Store, todo: list[Chunk], pool, progress: bool) -> None:
    """Run the chunks' replications; write each chunk's part as soon as its last replication is in."""
    exp = plan.experiment
    of = {(c.point, c.start): c for c in todo}
    waiting: dict[Chunk, dict[int, dict[str, Any]]] = {}
    tasks = (
        Task((c.point, r), plan.points[c.point].scenario) for c in todo for r in range(c.start, c.stop)
    )
    total = sum(c.stop - c.start for c in todo)
    for task, result in run_tasks(run_replication, tasks, root_seed=exp.seed, pool=pool,
                                  progress=exp.name if progress else None, total=total):
        point, rep = task.key
        chunk = of[(point, rep - rep % exp.chunk)]
        got = waiting.setdefault(chunk, {})
        got[rep] = _row(plan, point, rep, result)
        if result.get("error"):
            store.log("failed", point=point, replication=rep, error=result["error"])
        if len(got) == chunk.stop - chunk.start:
            done = [got[r] for r in sorted(got)]
            store.write_part(chunk, done)
            del waiting[chunk]
            store.log("chunk", key=chunk.key, point=point, replications=[chunk.start, chunk.stop],
                      failed=sum(1 for r in done if r["error"]))
