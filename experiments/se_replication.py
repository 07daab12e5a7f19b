"""Does the reported SE of the 26-week employment difference match replication? (issue 7)

Runs a grid of W worlds x P pilots: world seed w draws the population, employers and burn-in
(`PilotModel(world=...)`), pilot seed p the randomisation and every later draw. From the grid:
- within-world SD: SD of the estimate across pilot seeds in one world, pooled over worlds (the spread of
  a pilot in one fixed area);
- between-world SD of the world means (minus the within part): how much the effect itself differs from
  area to area drawn from the scenario;
- the mean reported SE (summary.json's, Neyman/HC2) and cluster-robust SEs by intake week and office.

    nice -n 10 .venv/bin/python experiments/se_replication.py --worlds 20 --pilots 20 --set referral.mode=mandatory
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from labsim.config.scenario import apply_overrides, parse_scenario, read_scenario_dict
from labsim.results.estimate import itt
from labsim.results.summary import results_of
from labsim.sweep.runner import Task, executor, run_tasks
from labsim.world.model import PilotModel

ROOT = Path(__file__).resolve().parents[1]


def one_pilot(task: Task, seed: np.random.SeedSequence) -> dict:
    scenario, root = task.payload
    w, _ = task.key
    world = np.random.SeedSequence(root, spawn_key=(10_000 + w,))  # world seed: by world index only
    model = PilotModel(scenario, rng=seed, world=world)
    model.run_for(scenario.weeks)
    res = results_of(model)
    ind = res.individuals
    y = "employed_26w"
    row = {"world": w, "pilot": task.key[1]}
    d = res.summary["employment_rate"]["26w"]
    row["estimate"], row["se_summary"] = d["difference"], d["se"]
    row["se_hc2"] = itt(ind, y).se
    row["se_week"] = itt(ind, y, cluster="assigned_week").se
    row["se_office"] = itt(ind, y, cluster="office").se
    row["n"] = int(ind[y].notna().sum())
    row["starts"] = int(ind["took_up"].sum())
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--worlds", type=int, default=20)
    ap.add_argument("--pilots", type=int, default=20)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--csv", default=None)
    a = ap.parse_args(argv)
    data = read_scenario_dict(ROOT / "scenarios" / f"{a.scenario}.toml")
    scenario = parse_scenario(apply_overrides(data, a.set, a.scenario), a.scenario)
    tasks = [Task((w, p), (scenario, a.seed)) for w in range(a.worlds) for p in range(a.pilots)]
    with executor("local", a.workers) as pool:
        rows = [r for _, r in run_tasks(one_pilot, tasks, root_seed=a.seed, pool=pool)]
    df = pd.DataFrame(rows).sort_values(["world", "pilot"])
    if a.csv:
        df.to_csv(a.csv, index=False)
    report(df)


def report(df: pd.DataFrame) -> None:
    g = df.groupby("world")["estimate"]
    p = g.size().iloc[0]
    within_var = g.var(ddof=1).mean()
    between_var_means = g.mean().var(ddof=1)
    world_var = max(between_var_means - within_var / p, 0.0)  # variance of the worlds' own effects
    sd_within, sd_world = np.sqrt(within_var), np.sqrt(world_var)
    sd_total = np.sqrt(within_var + world_var)  # one pilot in a fresh world
    print(f"{df['world'].nunique()} worlds x {p} pilots; mean estimate {df['estimate'].mean():.4f}")
    print(f"SD within a world {sd_within:.4f}; SD of worlds' effects {sd_world:.4f}; total {sd_total:.4f}")
    for col in ("se_summary", "se_hc2", "se_week", "se_office"):
        se = np.sqrt((df[col] ** 2).mean())
        print(f"  {col:11s} rms {se:.4f}  / within {se / sd_within:.3f}  / total {se / sd_total:.3f}")
    world_mean = g.transform("mean")
    z = (df["estimate"] - world_mean).abs() / df["se_summary"] * np.sqrt(p / (p - 1))
    print(f"  coverage of the world's mean effect by +-1.96 se_summary: {(z < 1.96).mean():.3f}")
    print(f"  mean starts {df['starts'].mean():.0f}, n {df['n'].mean():.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
