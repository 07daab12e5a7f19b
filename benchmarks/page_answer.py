"""The page's second answer (issue 28): how long "How large must it be?" takes after a first answer when one
lever moves, and how many new pilots it simulates.

    nice .venv/bin/python -m benchmarks.page_answer --scenario fi_2019_growth_services --scenario baseline

For each scenario it asks the page's question (the size job at the page's quick settings, with the
session's `PilotCache`, in a child process of its own as the page's **How large must it be?** button runs
it: `labsim.app.quick_size.SizeJob`) once, then once for each lever moved alone from there, in one session
(so one cache): alpha 0.05 -> 0.10, the power target 0.8 -> 0.9, the horizon 13 and 52 weeks, the adjusted
estimator, and the effect of provider effort x1.25 (a world lever). Each edit goes through the page's
`Draft`, so the scenario's descriptions are rewritten as on the page. It prints, per answer, the pilots
newly simulated (the cache's count; roll-out world runs included), the seconds from the button to the
answer, N* and its interval, and the load averages before and after (the machine may be shared).
`--in-process` runs the job in this process instead of a child (the smoke test's tiny world).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from benchmarks import load  # noqa: E402
from labsim.app.draft import Draft, from_file  # noqa: E402
from labsim.app.quick_size import SizeJob, quick_settings, search  # noqa: E402
from labsim.catalog import resolve_scenario  # noqa: E402
from labsim.design.pilot_cache import PilotCache  # noqa: E402
from labsim.design.size import SearchSettings  # noqa: E402

#: The levers moved after the first answer, each alone: (name, settings changed, scenario field, value).
#: A value None for the effect means the scenario's own x1.25 (to the lever's 0.05 steps).
LEVERS: tuple[tuple[str, dict[str, Any], str | None, Any], ...] = (
    ("alpha 0.10", {"alpha": 0.10}, None, None),
    ("power 0.9", {"power": 0.9}, None, None),
    ("horizon 13", {}, "design.primary_horizon_weeks", 13),
    ("horizon 52", {}, "design.primary_horizon_weeks", 52),
    ("estimator adjusted", {}, "design.estimator", "adjusted"),
    ("effect x1.25", {}, "providers.effort_effect", None),
)


def ask(draft: Draft, s: SearchSettings, cache: PilotCache, in_process: bool) -> tuple[Any, float]:
    """One press of the button: the answer and the seconds it took."""
    started = time.perf_counter()
    if in_process:
        run = search(draft.scenario(), s, lambda: None, cache)
    else:
        job = SizeJob(draft.scenario(), s, cache)
        job.follow(lambda _: None)
        if job.answer is None:
            raise SystemExit(f"the search failed: {job.error}")
        run = job.answer
    return run, time.perf_counter() - started


def session(name: str, s: SearchSettings, overrides: list[str], levers: list[str] | None = None,
            in_process: bool = False, say=print) -> list[dict[str, Any]]:
    """The first answer and each lever after it, in one session; one row per answer."""
    base = from_file(resolve_scenario(name))
    for item in overrides:  # a smaller world for the smoke test (`--set`), as the file's own fields
        path, _, value = item.partition("=")
        base = Draft(base.with_change(path, json.loads(value)).edited(), base.source)
    cache, rows = PilotCache(), []
    steps = [("first answer", {}, None, None)] + [lv for lv in LEVERS if levers is None or lv[0] in levers]
    for label, changed, path, value in steps:
        draft = base
        if path is not None:
            if value is None:
                value = round(base.scenario().providers.effort_effect * 1.25 / 0.05) * 0.05
            draft = base.with_change(path, value)
        before, at_start = cache.ran, load()
        run, seconds = ask(draft, replace(s, **changed), cache, in_process)
        m = run.answer.minimum
        row = {"scenario": name, "lever": label, "new_pilots": cache.ran - before, "seconds": round(seconds, 1),
               "n_star": None if m is None else round(m.n_star), "interval": None if m is None else [round(m.low), round(m.high)],
               "sims_total": run.answer.sims_total, "load_start": at_start, "load_end": load()}
        rows.append(row)
        say(f"{name:28} {label:20} {row['new_pilots']:6d} new pilots {seconds:7.1f} s   N* {row['n_star']} "
            f"{row['interval']}   load {at_start} -> {row['load_end']}")
        sys.stdout.flush()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page_answer", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="a bundled scenario (repeatable; default fi_2019_growth_services)")
    parser.add_argument("--lever", action="append", choices=[lv[0] for lv in LEVERS], help="only these levers (repeatable)")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=JSON", help="a scenario field for every answer")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: the page's, every core)")
    parser.add_argument("--in-process", action="store_true", help="run the job here, not in a child as the page does")
    parser.add_argument("--json", type=Path, help="write the rows here")
    a = parser.parse_args(argv)
    s = quick_settings(a.workers)
    print(f"load at start {load()}; {os.cpu_count()} cores; page's quick settings: {s.batch} pilots a batch, "
          f"budget {s.budget}, +-{s.precision:.0%}")
    rows = []
    for name in a.scenario or ["fi_2019_growth_services"]:
        rows += session(name, s, a.set, a.lever, a.in_process)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
