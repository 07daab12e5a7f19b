"""`labsim plot` and `labsim report` of a run folder against the import of what they need (issue 28: each
within 2.5x of importing matplotlib, pandas and pyarrow). Whole processes, timed from outside; the three
commands are interleaved round by round so that all meet the same moments of a shared machine, and the
medians of `--repeats` rounds are compared. The run folder is made once first (`labsim run baseline
--seed 7`). `--against SRC` also times `labsim plot` and `report` from another tree's `src/` (e.g. the
code before a change, `git archive`d into a folder) in the same rounds, so that old and new meet the same
moments of a shared machine; the folder is made by this tree's code. `labsim plot --svg` (the charts also
as SVG, on request since issue 28) is timed for this tree too, beside the default's PNG only.

    .venv/bin/python -m benchmarks.charts               # 5 rounds
    .venv/bin/python -m benchmarks.charts --repeats 9
    .venv/bin/python -m benchmarks.charts --repeats 7 --against /tmp/old/src
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = "import matplotlib.pyplot, pandas, pyarrow, pyarrow.parquet"
TARGET = 2.5


def env_for(src: Path) -> dict[str, str]:
    """The environment that runs labsim from `src` (and draws without a display)."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])),
                MPLBACKEND="Agg")


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--against", type=Path, metavar="SRC",
                        help="another tree's src/ folder, whose plot and report are timed in the same rounds")
    args = parser.parse_args(argv)
    env = env_for(ROOT / "src")
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        subprocess.run([py, "-m", "labsim", "run", "baseline", "--seed", "7", "--out", str(run), "--no-charts"],
                       check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        trees = {"": env} if args.against is None else {"": env, "against ": env_for(args.against.resolve())}
        commands = {"imports": ([py, "-c", IMPORTS], env)}
        for tag, tree_env in trees.items():
            commands[f"{tag}plot"] = ([py, "-m", "labsim", "plot", str(run)], tree_env)  # both into run/charts
            if not tag:
                commands["plot --svg"] = ([py, "-m", "labsim", "plot", str(run), "--svg"], tree_env)
            commands[f"{tag}report"] = ([py, "-m", "labsim", "report", str(run), "--out",
                                         str(Path(tmp) / f"report{tag.strip()}.html")], tree_env)
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
        start = os.getloadavg()
        for _ in range(args.repeats):
            for name, (command, command_env) in commands.items():
                times[name].append(timed(command, command_env))
    end = os.getloadavg()
    print(f"load average {start[0]:.1f} {start[1]:.1f} {start[2]:.1f} at the start, "
          f"{end[0]:.1f} {end[1]:.1f} {end[2]:.1f} at the end; "
          f"medians of {args.repeats} rounds (wall, and CPU, which a shared machine inflates less)")
    base = [statistics.median(t[i] for t in times["imports"]) for i in (0, 1)]
    for name, t in times.items():
        wall, cpu = (statistics.median(x[i] for x in t) for i in (0, 1))
        mark = "" if name == "imports" else (
            f"  {wall / base[0]:.2f}x the imports' wall, {cpu / base[1]:.2f}x their CPU "
            f"({'met' if wall / base[0] <= TARGET else 'not met'} on wall, target {TARGET}x)")
        print(f"{name:<14} {wall:6.2f} s wall, {cpu:5.2f} s CPU{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
