"""Why the calibration coverage study's intervals miss (docs/calibration.md, "The coverage study").

    LABSIM_COVERAGE_OUT=coverage.jsonl python -m pytest -p no:cacheprovider --basetemp=cover -m slow \
        tests/test_calibrate.py -k cover -s
    python scripts/coverage_replay.py cover/test_intervals_cover_planted_v0 coverage.jsonl

Replays each planting's fit from its store (the search and the profile again, on the stored parts: nothing
is simulated; it stops if something would be) and prints, per planting: the interval's width relative to
the planted value, the lowest Q among the evaluated candidates relative to Q at the fit (below 0: the
search did not reach the minimum), whether the profile falls below 3.84 again after a first crossing, and
how far the mean monthly outflow scatters about a straight line through the candidates, in simulation
standard errors of the mean at the fit (about 1: the common seeds do not smooth it). Then the summary.

With --at-planted it also simulates each refit once more at the planted value, on the refit's own seeds
(its replications, stored beside the others): Q there minus Q at the fit (the interval should hold the
planted value when this is below 3.84) and each target's distance there in units of the criterion's SD
(SD 1 over the plantings if the criterion's variance is right).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from labsim.config.targets import Targets  # noqa: E402
from labsim.design.calibrate import CHI2_95, Evaluator, criterion, intervals, search  # noqa: E402
from labsim.sweep.store import Store  # noqa: E402

from test_calibrate import small_plan  # noqa: E402


def replay(folder: Path, record: dict, at_planted: bool = False) -> dict:
    ident = json.loads((folder / "manifest.json").read_text())["identity"]
    targets = Targets.model_validate(ident["targets"])
    plan = small_plan(targets, seed=ident["seed"], budget=ident["budget"], replications=ident["replications"])
    evaluator = Evaluator(plan, Store(folder), None)
    seen: dict[float, np.ndarray] = {}

    def evaluate(thetas):
        out = evaluator(thetas)
        seen.update({round(float(t[0]), 9): v for t, v in zip(thetas, out)})
        return out

    theta, _ = search(plan, evaluate)
    lo, hi = intervals(plan, evaluate, theta)
    if evaluator.runs:
        raise SystemExit(f"{folder}: the replay would simulate ({evaluator.runs} runs); is this the study's store?")
    at = evaluate([theta])[0]
    q0 = criterion(plan, at, at)
    planted = record["planted"]
    extra = {}
    if at_planted:
        there = evaluator([np.array([planted])])[0]
        sd = np.array([t.sd for t in targets.targets])
        figure = np.array([t.figure for t in targets.targets])
        z = (there.mean(axis=1) - figure) / np.sqrt(sd**2 + at.var(axis=1, ddof=1) / at.shape[1])
        extra = {"rise_at_planted": criterion(plan, there, at) - q0, **{f"z_{t.name}": float(v)
                                                                        for t, v in zip(targets.targets, z)}}
    ts = np.array(sorted(seen))
    rise = np.array([criterion(plan, seen[t], at) - q0 for t in ts])
    fit = float(theta[0])

    def reenters(side: int) -> bool:
        sel = (ts - fit) * side > 0
        q = rise[sel][np.argsort(np.abs(ts[sel] - fit))]
        crossed = np.flatnonzero(q >= CHI2_95)
        return crossed.size > 0 and bool((q[crossed[0] + 1:] < CHI2_95).any())

    outflow = np.array([seen[t].mean(axis=1)[0] for t in ts])
    scatter = outflow - np.polyval(np.polyfit(ts, outflow, 1), ts)
    sim_se = at.std(axis=1, ddof=1)[0] / np.sqrt(at.shape[1])
    side = "covered" if lo[0] <= planted <= hi[0] else "below" if hi[0] < planted else "above"
    return {"planting": record["planting"], "planted": planted, "fit": fit, "low": lo[0], "high": hi[0],
            "interval": side, "width_rel": (hi[0] - lo[0]) / planted, "lowest_rise": rise.min(),
            "reenters": reenters(-1) or reenters(1), "scatter_in_se": scatter.std(ddof=2) / sim_se,
            "target_sd_outflow": targets.targets[0].sd, **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path, help="the test's tmp_path: holds cal0, cal1, ...")
    parser.add_argument("record", type=Path, help="the study's JSON lines ($LABSIM_COVERAGE_OUT)")
    parser.add_argument("--at-planted", action="store_true", help="also simulate each refit at the planted value")
    args = parser.parse_args()
    records = [json.loads(line) for line in args.record.read_text().splitlines() if line.strip()]
    df = pd.DataFrame([replay(args.study / f"cal{r['planting']}", r, args.at_planted) for r in records])
    pd.set_option("display.width", 200)
    print(df.round(5).to_string(index=False))
    miss = df["interval"] != "covered"
    print(f"covered {int((~miss).sum())} of {len(df)}; misses below {int((df['interval'] == 'below').sum())}, "
          f"above {int((df['interval'] == 'above').sum())}")
    print(f"mean width {df['width_rel'].mean():.3f} of the planted value (misses {df['width_rel'][miss].mean():.3f})")
    print(f"a candidate's Q more than 1 below Q(fit): {int((df['lowest_rise'] < -1).sum())} "
          f"(misses {int((df['lowest_rise'][miss] < -1).sum())})")
    print(f"profile below 3.84 again after a first crossing: {int(df['reenters'].sum())} "
          f"(misses {int(df['reenters'][miss].sum())})")
    print(f"median scatter of the mean outflow about a line, in simulation SEs: {df['scatter_in_se'].median():.2f}")
    if args.at_planted:
        rejected = df["rise_at_planted"] >= CHI2_95
        print(f"Q at the planted value 3.84 or more above Q at the fit: {int(rejected.sum())} "
              f"(misses {int(rejected[miss].sum())}); below Q at the fit: {int((df['rise_at_planted'] < 0).sum())}")
        zs = [c for c in df if c.startswith("z_")]
        print("SD over the plantings of each target's distance at the planted value (1 if the criterion's "
              "variance is right): " + ", ".join(f"{c[2:]} {df[c].std(ddof=1):.2f}" for c in zs))


if __name__ == "__main__":
    main()
