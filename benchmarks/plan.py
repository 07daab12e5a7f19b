"""The plan of issue 27 on fi_2019 (docs/plan.md, "The benchmark"): 2 referral rules x 3 payment models x
2 designs x 2 estimators, each with its cost-optimal treated share, on 2 workers.

    nice -n 10 .venv/bin/python -m benchmarks.plan                 # the plan at its default settings
    nice -n 10 .venv/bin/python -m benchmarks.plan --reduced       # 10 probe pilots, 2 searches of +-20 %
    nice -n 10 .venv/bin/python -m benchmarks.plan --reduced --resume   # go on after an interruption

It runs `labsim plan` as a child process (its progress bar on the terminal) and prints the wall time, the
CPU seconds of the command's own process (not its workers'), the load averages before and after, the pilots simulated and
the verdict. The plan's folder is `runs/fi_2019-plan-bench` (`-reduced` for the reduced settings).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

LEVERS = ["referral.mode=voluntary,mandatory", "payment.preset=fixed_fee,outcome_only,hybrid",
          "design.randomisation=individual,office", "design.estimator=difference,adjusted"]
#: Reduced precision: half the probe pilots, two full searches instead of three, the size within +-20 %.
REDUCED = ["--probe", "10", "--frontier", "2", "--precision", "0.2"]


def command(reduced: bool, resume: bool, out: Path) -> list[str]:
    argv = [sys.executable, "-m", "labsim", "plan", "fi_2019_growth_services", "--assurance", "0.8",
            "--workers", "2", "--out", str(out)]
    for lever in LEVERS:
        argv += ["--vary", lever]
    argv += REDUCED if reduced else []
    argv += ["--resume"] if resume else ["--force"]
    return argv


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plan", description=__doc__.splitlines()[0])
    parser.add_argument("--reduced", action="store_true", help=f"reduced precision: {' '.join(REDUCED)}")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted benchmark plan")
    a = parser.parse_args(args)
    out = Path("runs") / ("fi_2019-plan-bench" + ("-reduced" if a.reduced else ""))
    argv = command(a.reduced, a.resume, out)
    print(" ".join(argv[1:]), flush=True)
    load = os.getloadavg()
    started = time.monotonic()
    code = subprocess.call(argv, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH")]))})
    wall = time.monotonic() - started
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"exit {code}; wall {wall:.0f} s ({wall / 60:.1f} min); CPU {cpu.ru_utime + cpu.ru_stime:.0f} s in the "
          "command's own process (its pool's workers are not counted); "
          f"load before {' '.join(f'{x:.1f}' for x in load)}, after {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if code == 0:
        answer = json.loads((out / "plan.json").read_text())
        searched = sum(c["searched"] for c in answer["candidates"])
        print(f"{len(answer['candidates'])} candidates probed, {searched} searched, {answer['sims_total']:,} pilots")
        print("answer:", json.dumps(answer["answer"]))
    return code


if __name__ == "__main__":
    sys.exit(main())
