"""Issue 18's benchmarks (fast answers): what stopping early and reusing the burn-in save per pilot, time
per pilot against seekers (10,000 to 1,000,000, whole process, beside the numpy floor) and against Dask
workers (1, 2, 4 of a LocalCluster, tasks in chunks and one at a time), and the time of each README
command. `python -m benchmarks --only pilot scale dask commands` prints them as rows of the table;
`--chart PATH` also draws the scaling chart of docs/performance.md from the same run.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.run import BASELINE, REGIONAL, ROOT, SCENARIOS, reference_loop

GROWTH = SCENARIOS / "fi_2019_growth_services.toml"
SCALE_SEEKERS = (10_000, 30_000, 100_000, 300_000, 1_000_000)
TARGET_SCALE_RATIO = 6.0  # whole process, 1,000,000 seekers x 104 weeks, against the numpy floor
TARGET_SCALE_MB = 3072.0


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes), to print beside figures from a shared machine."""
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


# -- 1. a size search's pilot: full length, stopped early, and from a kept world ----------------------


def bench_pilot(path: Path = GROWTH, reps: int = 6, quick: bool = False) -> dict:
    """Seconds per replication of the size search's kind (fi_2019 at 5,000 places) in this process:
    the full length with every figure (as before issue 18), stopped once employment at 26 weeks is
    complete, and stopped early and started from the worker's kept copy of its burned-in world.
    The three are interleaved per replication so that they meet the same moments of a shared machine."""
    from labsim.config.scenario import load_scenario
    from labsim.design import world_cache
    from labsim.design.replicate import PilotJob, simulate
    from labsim.design.worlds import at_size
    from labsim.sweep.runner import Task, seed_for

    extra = ["area.job_seekers=6000", "area.burn_in_weeks=8"] if quick else []
    sc = at_size(load_scenario(path, extra), "participants", 500 if quick else 5000)
    kinds = {"full": PilotJob(sc), "early": PilotJob(sc, figures=("employment",)),
             "early_forked": PilotJob(sc, figures=("employment",))}
    seconds: dict[str, list[float]] = {k: [] for k in kinds}
    weeks: dict[str, int] = {}
    for rep in range(reps):
        world_cache.clear()
        simulate(Task((rep,), kinds["early"]), seed_for(1, (rep,)))  # keeps this world (not timed)
        for kind, job in kinds.items():
            if kind != "early_forked":
                world_cache.clear()
            t = time.perf_counter()
            rec = simulate(Task((rep,), job), seed_for(1, (rep,)))
            seconds[kind].append(time.perf_counter() - t)
            weeks[kind] = rec["weeks_run"]
    world_cache.clear()
    out = {k: float(np.median(v)) for k, v in seconds.items()}
    return {"scenario": path.name, "reps": reps, "seconds": out, "weeks_run": weeks,
            "speedup_early": out["full"] / out["early"], "speedup_both": out["full"] / out["early_forked"],
            "load": load()}


# -- 2. time per pilot against seekers: the whole process, beside the numpy floor ------------------------

_SCALE = """
import json, time
t0 = time.perf_counter()
from benchmarks.run import reference_loop, scenario
from labsim.world.model import PilotModel
sc = scenario({path!r}, ["area.job_seekers={n}"], {n})
t1 = time.perf_counter()
m = PilotModel(sc, rng=1)
t2 = time.perf_counter()
m.run_for({weeks})
t3 = time.perf_counter()
rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
del m
t4 = time.perf_counter()
reference_loop({n}, {weeks}, seed=1)
t5 = time.perf_counter()
print(json.dumps({{"imports": t1 - t0, "startup": t2 - t1, "weeks_s": t3 - t2, "model": t3 - t0,
                  "floor": t5 - t4, "rss_mb": rss}}))
"""


def bench_scale(seekers=SCALE_SEEKERS, weeks: int = 104, path: Path = REGIONAL) -> list[dict]:
    """For each size, one fresh process: the whole run (imports, population, burn-in, the weeks), then
    the numpy floor (`reference_loop`, the same seekers and weeks) in the same process right after, so
    that both meet nearly the same machine; peak RSS of the model part (VmHWM: ru_maxrss would carry
    over the benchmark process's own peak through exec)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    rows = []
    for n in seekers:
        code = _SCALE.format(path=str(path), n=n, weeks=weeks)
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
        if done.returncode:
            raise RuntimeError(done.stderr[-2000:])
        d = json.loads(done.stdout)
        d.update(seekers=n, weeks=weeks, process=time.perf_counter() - t, ratio=d["model"] / d["floor"],
                 ns_per_seeker_week=d["weeks_s"] / (n * weeks) * 1e9, load=load())
        rows.append(d)
    return rows


# -- 3. Dask workers: replications in chunks and one at a time ---------------------------------------


def bench_dask(workers=(1, 2, 4), reps: int = 160, path: Path = BASELINE) -> list[dict]:
    """Pilots per second on a Dask LocalCluster of 1, 2 and 4 worker processes: short replications
    (the baseline shrunk to 1,000 seekers, 30 weeks, stopped once employment at 26 weeks is complete:
    tens of milliseconds each, where the scheduler's cost per task shows), sent in chunks (the default)
    and one task at a time. The cluster starts and warms before the clock."""
    from labsim.config.scenario import load_scenario
    from labsim.design.replicate import PilotJob, simulate
    from labsim.sweep.runner import Task, chunk_size, executor, run_tasks

    extra = ["area.job_seekers=1000", "area.burn_in_weeks=4", "weeks=30"]
    job = PilotJob(load_scenario(path, extra), figures=("employment",))
    rows = []
    for w in workers:
        with executor("dask", w) as pool:
            list(run_tasks(simulate, [Task((i,), job) for i in range(2 * w)], root_seed=0, pool=pool,
                           chunk=1))  # workers import labsim and warm up
            for seed, chunk in ((1, None), (2, 1)):  # other seeds: no world kept from before
                size = chunk or chunk_size(pool, reps)
                t = time.perf_counter()
                n = sum(1 for _ in run_tasks(simulate, [Task((i,), job) for i in range(reps)], root_seed=seed,
                                             pool=pool, total=reps, chunk=chunk))
                rows.append({"workers": w, "chunked": chunk is None, "chunk": size,
                             "pilots_per_s": n / (time.perf_counter() - t), "load": load()})
    return rows


# -- 4. the README's commands ---------------------------------------------------------------------------

COMMANDS = (
    ("labsim scenarios", ["scenarios"]),
    ("labsim validate scenarios/*.toml", ["validate", *sorted(str(p) for p in SCENARIOS.glob("*.toml"))]),
    ("labsim run baseline --seed 7", ["run", "baseline", "--seed", "7", "--out", "{tmp}/b7"]),
    ("labsim run baseline --no-charts", ["run", "baseline", "--no-charts", "--out", "{tmp}/bn"]),
    ("labsim plot runs/b7", ["plot", "{tmp}/b7"]),
    ("labsim report runs/b7", ["report", "{tmp}/b7", "--out", "{tmp}/b7.html"]),
    ("labsim run fi_2017_regional_experiments --json", ["run", str(REGIONAL), "--json", "--out", "{tmp}/r"]),
    ("labsim diagnose baseline --sims 200", ["diagnose", "baseline", "--sims", "200", "--out", "{tmp}/d"]),
    ("labsim size fi_2019_growth_services", ["size", "fi_2019_growth_services", "--out", "{tmp}/s"]),
    ("labsim sweep referral_and_payment --replications 5",
     ["sweep", "referral_and_payment", "--out", "{tmp}/sw", "--replications", "5"]),
)


def bench_commands(skip: tuple[str, ...] = ()) -> list[dict]:
    """Wall seconds and CPU seconds of each README command, in order (CPU of the command's own process:
    pool workers are reaped by their forkserver, so `diagnose`, `size` and `sweep` show little)."""
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv in COMMANDS:
            if any(s in name for s in skip):
                continue
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "labsim", *(a.format(tmp=tmp) for a in argv)],
                                  capture_output=True, text=True, cwd=ROOT)
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            rows.append({"command": name, "wall": wall, "cpu": cpu, "ok": done.returncode == 0, "load": load()})
    return rows


# -- the chart ----------------------------------------------------------------------------------------------


def chart(raw: dict, path: Path) -> None:
    """Time per pilot against seekers (model and floor, whole process) and pilots per second against
    Dask workers, side by side, as a PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), dpi=110, layout="constrained")
    left, right = fig.subplots(1, 2)
    if raw.get("scale"):
        n = [r["seekers"] for r in raw["scale"]]
        left.loglog(n, [r["model"] for r in raw["scale"]], "o-", label="labsim, whole process (104 weeks)")
        left.loglog(n, [r["floor"] for r in raw["scale"]], "s--", label="numpy floor (reference loop)")
        left.loglog(n, [TARGET_SCALE_RATIO * r["floor"] for r in raw["scale"]], ":", color="0.5",
                    label=f"{TARGET_SCALE_RATIO:g}x the floor")
        left.set_xlabel("job seekers")
        left.set_ylabel("seconds per pilot")
        left.legend(frameon=False)
        left.grid(alpha=0.3, which="both")
    if raw.get("dask"):
        for chunked in (True, False):
            rows = {r["workers"]: r for r in raw["dask"] if r["chunked"] == chunked}
            w = sorted(rows)
            right.plot(w, [rows[k]["pilots_per_s"] for k in w], "o-" if chunked else "s--",
                       label="tasks in chunks" if chunked else "one task at a time")
        right.set_xticks([1, 2, 4])
        right.set_xlabel("Dask workers (LocalCluster, 2 cores)")
        right.set_ylabel("pilots per second")
        right.set_ylim(bottom=0)
        right.legend(frameon=False)
        right.grid(alpha=0.3)
    fig.suptitle(f"Time per pilot against seekers and workers ({raw.get('load', load())})", x=0.01, ha="left")
    fig.savefig(path)


# -- rows of the benchmark table ---------------------------------------------------------------------------


def rows(rep, args) -> None:
    """Run the parts of issue 18 asked for and add their rows to the benchmark table `rep`."""
    q = args.quick
    if "pilot" in args.only:
        p = bench_pilot(reps=2 if q else 6, quick=q)
        rep.raw["pilot"] = p
        s, w = p["seconds"], p["weeks_run"]
        rep.add(f"pilot: size-search replication, full length ({p['scenario']}, {w['full']} weeks)",
                f"{s['full']:.2f} s", note=p["load"])
        rep.add(f"pilot: stopped once employment at 26 weeks is complete ({w['early']} weeks)",
                f"{s['early']:.2f} s", note=f"{p['speedup_early']:.1f}x faster than full length")
        rep.add("pilot: stopped early and started from the kept burned-in world", f"{s['early_forked']:.2f} s",
                note=f"{p['speedup_both']:.1f}x faster than full length (median of {p['reps']}, interleaved)")
    if "scale" in args.only:
        sc = bench_scale(seekers=(2_000, 10_000) if q else SCALE_SEEKERS, weeks=8 if q else 104)
        rep.raw["scale"] = sc
        for r in sc:
            last = r is sc[-1]
            rep.add(f"scale: {r['seekers']:,} seekers x {r['weeks']} weeks, whole process / numpy floor",
                    f"{r['ratio']:.1f}x", f"<= {TARGET_SCALE_RATIO:g}x" if last and not q else "",
                    (r["ratio"] <= TARGET_SCALE_RATIO) if last and not q else None,
                    f"{r['model']:.1f} s (imports {r['imports']:.1f}, start {r['startup']:.1f}, weeks "
                    f"{r['weeks_s']:.1f}), floor {r['floor']:.2f} s; {r['load']}")
            rep.add(f"scale: {r['seekers']:,} seekers, peak RSS", f"{r['rss_mb']:.0f} MB",
                    f"< {TARGET_SCALE_MB:g} MB" if last and not q else "",
                    (r["rss_mb"] < TARGET_SCALE_MB) if last and not q else None)
    if "dask" in args.only:
        d = bench_dask(workers=(1, 2) if q else (1, 2, 4), reps=4 if q else 160)
        rep.raw["dask"] = d
        for r in d:
            how = f"chunks of {r['chunk']}" if r["chunked"] else "one task at a time"
            rep.add(f"dask: pilots/s, {r['workers']} worker(s), {how}", f"{r['pilots_per_s']:.2f}", note=r["load"])
    if "commands" in args.only and not q:
        c = bench_commands()
        rep.raw["commands"] = c
        for r in c:
            rep.add(f"command: {r['command']}", f"{r['wall']:.1f} s", note=f"CPU {r['cpu']:.1f} s; {r['load']}"
                    + ("" if r["ok"] else "; FAILED"))
