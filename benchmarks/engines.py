"""One engine (issue 28): the size answer on a 2-worker Dask LocalCluster against 2 local processes.

    nice .venv/bin/python -m benchmarks.engines --rounds 3 --scenario fi_2019_growth_services
    nice .venv/bin/python -m benchmarks.engines --rounds 3 --quick      # the page's quick settings

Each round runs the whole size job (`labsim.design.size_job.run_size`: search, evidence, type-I check,
accounts, roll-out worlds) once on each engine, the two in alternating order so that both meet the same
moments of a shared machine, each with its pool started and stopped inside the clock (as `labsim size
--engine dask` and `--engine local` do). It prints each run's wall seconds, the paired ratio local / dask
(the Dask cluster's speed as a share of the local pool's: issue 28 asks >= 0.85) and its median, checks
that the two answers are identical (every field but the seconds, and every pilot's row), and prints the
load averages. `--quick` uses the page's settings (batches of 10, +-50 %) instead of `labsim size`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from benchmarks import load  # noqa: E402
from labsim.catalog import resolve_scenario  # noqa: E402
from labsim.config.scenario import load_scenario  # noqa: E402
from labsim.design.evidence import ranges_of  # noqa: E402
from labsim.design.size import SearchSettings  # noqa: E402
from labsim.design.size_job import SizeRequest, run_size  # noqa: E402

ENGINES = ("local", "dask")


def without_seconds(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in json.loads(json.dumps(answer, default=str)).items() if k != "seconds"}


def request_for(name: str, quick: bool, workers: int, overrides: list[str] = ()) -> tuple[Any, SizeRequest]:
    """The scenario and the size question `labsim size NAME` asks (or the page's, `quick`)."""
    scenario = load_scenario(resolve_scenario(name), list(overrides))
    if quick:
        from labsim.app.quick_size import QUICK

        s = SearchSettings(workers=workers, **QUICK)
    else:
        s = SearchSettings(workers=workers)
    s = replace(s, horizon=scenario.design.primary_horizon_weeks)
    return scenario, SizeRequest(s, tuple(ranges_of(scenario, [])))


def timed(scenario, request: SizeRequest, engine: str):
    started = time.perf_counter()
    run = run_size(scenario, replace(request, search=replace(request.search, engine=engine)))
    return run, time.perf_counter() - started


def rounds(name: str, n: int, quick: bool, workers: int = 2, overrides: list[str] = (), say=print) -> dict[str, Any]:
    scenario, request = request_for(name, quick, workers, overrides)
    ratios, seconds, identical = [], {e: [] for e in ENGINES}, True
    for i in range(n):
        order = ENGINES if i % 2 == 0 else ENGINES[::-1]
        runs = {}
        at_start = load()
        for engine in order:
            runs[engine], took = timed(scenario, request, engine)
            seconds[engine].append(took)
        local, dask = runs["local"], runs["dask"]
        same = without_seconds(local.answer.to_json()) == without_seconds(dask.answer.to_json()) \
            and local.rows.equals(dask.rows)
        identical &= same
        ratios.append(seconds["local"][-1] / seconds["dask"][-1])
        say(f"{name} round {i + 1} ({' then '.join(order)}): local {seconds['local'][-1]:.1f} s, dask "
            f"{seconds['dask'][-1]:.1f} s, dask's speed {ratios[-1]:.2f}x local's; {local.answer.sims_total} pilots; "
            f"answers {'identical' if same else 'DIFFER'}; load {at_start} -> {load()}")
        sys.stdout.flush()
    out = {"scenario": name, "rounds": n, "quick": quick, "workers": workers, "seconds": seconds,
           "ratio": ratios, "median_ratio": statistics.median(ratios), "identical": identical}
    say(f"{name}: median dask speed / local speed {out['median_ratio']:.2f} over {n} round(s); answers "
        f"{'identical' if identical else 'NOT identical'}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engines", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scenario", action="append", help="a bundled scenario (repeatable; default fi_2019_growth_services)")
    parser.add_argument("--quick", action="store_true", help="the page's quick settings instead of labsim size's")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="a scenario override")
    parser.add_argument("--json", type=Path)
    a = parser.parse_args(argv)
    print(f"load at start {load()}; {os.cpu_count()} cores; {a.workers} workers each")
    out = [rounds(name, a.rounds, a.quick, a.workers, a.set) for name in a.scenario or ["fi_2019_growth_services"]]
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return 0 if all(o["identical"] for o in out) else 1


if __name__ == "__main__":
    sys.exit(main())
