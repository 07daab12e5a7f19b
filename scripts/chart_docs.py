"""Draw the small example charts in docs/img/charts/ (shown in docs/charts.md).

Run charts come from real runs of the bundled baseline (voluntary and mandatory referral, seed 1); the
size, diagnosis and sweep charts from the test suite's synthetic folders (tests/report_fixtures.py),
which have the agreed files and columns. Usage: .venv/bin/python scripts/chart_docs.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from labsim.report.charts import figures_for  # noqa: E402
from labsim.report.saved import load  # noqa: E402

import report_fixtures as fx  # noqa: E402

OUT = ROOT / "docs" / "img" / "charts"
WANTED = {  # folder -> charts to show from it
    "runs": ["volume"],
    "runs/mandatory": ["employment_by_arm", "survival_by_arm", "provider_profit", "stocks"],
    "size": ["power_curve", "minimum_detectable_effect", "estimates"],
    "referral_and_payment": ["effort_by_employability", "cost_per_extra_job", "volume_by_referral"],
    "saturation": ["displacement"],
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        labsim = [sys.executable, "-m", "labsim", "run", "baseline", "--seed", "1", "--no-charts"]
        subprocess.run([*labsim, "--out", str(root / "runs" / "voluntary")], check=True, capture_output=True)
        subprocess.run([*labsim, "--set", "referral.mode=mandatory", "--out", str(root / "runs" / "mandatory")],
                       check=True, capture_output=True)
        run = root / "runs" / "mandatory"
        fx.make_size(root / "size", run)
        for kind in ("referral_and_payment", "saturation"):
            fx.make_sweep(root / kind, run, kind, reps=3)
        OUT.mkdir(parents=True, exist_ok=True)
        for folder, names in WANTED.items():
            figs = figures_for(load(root / folder))
            for name in names:
                figs[name].savefig(OUT / f"{name}.png", dpi=64)
                print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
