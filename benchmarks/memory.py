"""Peak memory of one run, to check the ceilings of docs/model.md ("Limits").

    .venv/bin/python -m benchmarks.memory 200000 200          # 200,000 seekers, 200 pilot weeks
    .venv/bin/python -m benchmarks.memory 100000 520 --burn-in 2

Runs the baseline scenario with mandatory referral and no cap on places (the worst case: most of the
register is randomised, and everyone randomised gets a timeline), then reads the outcomes as a run
folder would, and prints the process's peak resident memory (`resource.getrusage`, Linux: KB).
One run per process, so that each peak is its own.
"""

from __future__ import annotations

import argparse
import resource
import time

from benchmarks.run import BASELINE


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n")[0])
    parser.add_argument("job_seekers", type=int)
    parser.add_argument("weeks", type=int)
    parser.add_argument("--burn-in", type=int, default=2, help="burn-in weeks (time only; default 2)")
    args = parser.parse_args()

    from labsim.config.scenario import load_scenario
    from labsim.results.summary import results_of
    from labsim.world.model import PilotModel

    w = args.weeks
    scenario = load_scenario(BASELINE, [
        f"area.job_seekers={args.job_seekers}", f"area.burn_in_weeks={args.burn_in}", f"weeks={w}",
        "referral.mode='mandatory'", f"pilot.end_week={w}", f"referral.intake_weeks={w}",
        "referral.target_participants=10000000", "providers.capacity=10000000",
    ])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    model = PilotModel(scenario, rng=1)
    model.run_for(w)
    result = results_of(model)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.job_seekers:,} seekers, {w} weeks (burn-in {args.burn_in}): peak {peak:,.0f} MB "
        f"(after imports {before:,.0f} MB); {len(result.individuals):,} randomised; "
        f"{time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
