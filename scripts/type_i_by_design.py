"""Type-I rate of each design's test in the zero-help world (providers that do nothing), with the
cluster-robust alternatives beside it on the same pilots (docs/evaluation.md, "The design's test").

    .venv/bin/python scripts/type_i_by_design.py --scenario baseline --design office --offices 6 \
        --pilots 200 --set referral.mode=mandatory --workers 2

Pilot r runs with seed key (r,) under `--seed` (world and pilot from that seed, as `labsim run` does) and
stops 26 weeks after its last assignment. Prints, per test: rejections, rate with its exact 95 % interval,
mean SE / SD of the estimates and coverage of 0 by the 95 % interval.
"""

from __future__ import annotations

import argparse
import math
from multiprocessing import Pool

import numpy as np
from scipy import stats

from labsim.config.scenario import apply_overrides, parse_scenario, read_scenario_dict
from labsim.design.replicate import SEARCH_FIGURES, PilotJob, run_job
from labsim.design.worlds import zero_help
from labsim.results.inference import TEST_OF, design_effect, saturation_spillover, smallest_p
from labsim.results.pilot import analysis_frame
from labsim.results.summary import replication_result

HORIZON = 26


def scenario_of(args) -> object:
    path = f"src/labsim/scenarios/{args.scenario}.toml"
    sets = [f"design.randomisation={args.design}", *args.set]
    if args.offices:
        sets.append(f"area.offices={args.offices}")
    return zero_help(parse_scenario(apply_overrides(read_scenario_dict(path), sets, path), args.scenario))


def one(job_args):
    scenario, rep, seed, tests = job_args
    model = run_job(PilotJob(scenario, "pilot", HORIZON, figures=SEARCH_FIGURES), np.random.SeedSequence(seed, spawn_key=(rep,)))
    result = replication_result(model.record())
    frame = analysis_frame(result, HORIZON)
    out = {}
    for test in tests:
        e = design_effect(frame, f"employed_{HORIZON}w", result.assignment, test=test)
        out[test or "design"] = (e.estimate, e.se, e.p_value, e.ci_low, e.ci_high)
    if result.assignment.design == "saturation":  # the spillover on the untreated (no interval)
        e = saturation_spillover(frame, f"employed_{HORIZON}w", result.assignment)
        out["spillover"] = (e.estimate, e.se, e.p_value, -math.inf, math.inf)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--design", default="office", choices=list(TEST_OF))
    ap.add_argument("--offices", type=int, default=None)
    ap.add_argument("--pilots", type=int, default=200)
    ap.add_argument("--seed", type=int, default=33)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--set", action="append", default=[])
    args = ap.parse_args()
    sc = scenario_of(args)
    tests = [None] if args.design == "individual" else [None, "t", "wild"]
    shown = tests + (["spillover"] if args.design == "saturation" else [])
    with Pool(args.workers) as pool:
        rows = pool.map(one, [(sc, r, args.seed, tests) for r in range(args.pilots)])
    offices = sc.area.offices
    print(f"{args.scenario} zero help, design {args.design}, {offices} offices, {args.pilots} pilots, seed {args.seed}; "
          f"smallest p of the design's test {smallest_p(args.design, offices, sc.design.offices_per_arm(offices)[0]):.3g}")
    for test in shown:
        r = np.array([row[test or "design"] for row in rows], float)
        ok = np.isfinite(r[:, 0]) & np.isfinite(r[:, 2])
        est, se, p, lo, hi = r[ok].T
        k, n = int((p < 0.05).sum()), int(ok.sum())
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact") if n else None
        ratio = math.sqrt(np.mean(se**2)) / est.std(ddof=1) if n > 1 else math.nan
        cover = float(np.mean((lo <= 0) & (0 <= hi))) if n else math.nan
        name = {None: TEST_OF[args.design], "t": "t(G - 1)", "wild": "wild", "spillover": "spillover (RI)"}[test]
        print(f"  {name:<14} rejected {k:>4} of {n}: {k / n:6.1%} ({ci.low:.1%}-{ci.high:.1%});"
              f" SE/SD {ratio:.2f}; coverage of 0 {cover:.3f}")


if __name__ == "__main__":
    main()
