"""Where the weekly step's time goes: CPU time per mechanism of `PilotModel.step`.

    .venv/bin/python -m benchmarks.step_profile            # fi_2017, 74,000 seekers, 96 weeks x 3 seeds
    .venv/bin/python -m benchmarks.step_profile --cprofile # also cProfile's top functions by own time
    .venv/bin/python -m benchmarks.step_profile --scenario scenarios/fi_2019_growth_services.toml --seekers 60000

Each method of the week (and the DataCollector, the referral week, matching and the vacancies) is
wrapped in a CPU-time clock (`time.process_time`, so that waiting for a shared core is not counted);
nested methods (the search weight and matching inside `_hire`, `entry_chance` inside `_routine_services`)
are counted both alone and in their caller. Methods missing from the code under test are skipped, so
the same command profiles an older tree (PYTHONPATH=OLD/src:OLD).
"""

from __future__ import annotations

import argparse
import cProfile
import collections
import os
import pstats
import time

from pathlib import Path

from benchmarks.run import REGIONAL, scenario

METHODS = ("_end_services", "employability", "_routine_services", "_start_with_providers", "_providers_serve",
           "_effort_chosen", "_hire", "search_effort", "_search_weight", "_network_hires", "_separate", "_pay_results",
           "_review_providers", "_enter_and_leave_register", "_advance_clocks", "_count")
#: The model's parts (attribute: methods) timed besides its own methods.
PARTS = {"datacollector": ("collect",), "referral": ("week",), "matching": ("job_finding", "hired", "job_cells"),
         "history": ("record",),
         "vacancies": ("post_and_expire", "pick_employers")}


def _clock(obj, name: str, label: str, spent: dict) -> None:
    """Wrap `obj.name` so that its CPU time adds to `spent[label]`."""
    inner = getattr(obj, name)

    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - start

    setattr(obj, name, timed)


def profile(weeks: int, seeds: int, with_cprofile: bool, seekers: int = 74_000,
            path: Path = REGIONAL) -> dict[str, float]:
    """Print, and return, each mechanism's share of the step's CPU time."""
    import labsim.world.model as model_module
    from labsim.world.model import PilotModel

    sc = scenario(path, [f"area.job_seekers={seekers}"], seekers)
    spent: dict[str, float] = collections.defaultdict(float)
    total = 0.0
    prof = cProfile.Profile() if with_cprofile else None
    entry_chance = getattr(model_module, "entry_chance", None)  # the activation entry (_routine_services)
    for seed in range(seeds):
        m = PilotModel(sc, rng=seed)
        m.run_for(8)
        for name in METHODS:
            if hasattr(m, name):
                _clock(m, name, name, spent)
        for label, names in PARTS.items():
            owner = getattr(m, label)
            for name in names:
                _clock(owner, name, label, spent)
        if entry_chance is not None:
            _clock(model_module, "entry_chance", "entry_chance", spent)
        start = time.process_time()
        if prof:
            prof.enable()
        m.run_for(weeks)
        if prof:
            prof.disable()
        total += time.process_time() - start
        if entry_chance is not None:
            model_module.entry_chance = entry_chance
    n = sc.area.job_seekers
    print(f"{weeks} weeks x {seeds} seeds of {Path(path).name}, {n} seekers: "
          f"{total / seeds / weeks / n * 1e9:.1f} ns per seeker-week of CPU "
          f"(load {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    for label, t in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {label:28s} {100 * t / total:5.1f} %   {t / seeds / weeks * 1e6:6.0f} us per week")
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    return {label: t / total for label, t in spent.items()}


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.step_profile", description=__doc__.split("\n")[0])
    ap.add_argument("--weeks", type=int, default=96)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seekers", type=int, default=74_000)
    ap.add_argument("--scenario", type=Path, default=REGIONAL, help="scenario file (default fi_2017's)")
    ap.add_argument("--cprofile", action="store_true", help="also print cProfile's top functions by own time")
    args = ap.parse_args()
    profile(args.weeks, args.seeds, args.cprofile, args.seekers, args.scenario)


if __name__ == "__main__":
    main()
