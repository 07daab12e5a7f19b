"""labsim calibrate: recovers planted parameter values inside its intervals, and a calibration killed
with SIGKILL and resumed ends with the same fitted values as one never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from labsim.cli import main
from labsim.config.scenario import apply_overrides, read_scenario_dict
from labsim.config.targets import Targets
from labsim.design.calibrate import (
    Calibration, FittedValue, Parameter, Plan, calibrate, calibrated_toml, target_values,
)
from labsim.sweep.store import Store

from conftest import SCENARIOS

SMALL = ["area.job_seekers=2000", "area.burn_in_weeks=26", "weeks=14"]
PLANTED = 0.032  # market.matching_efficiency (the bundled value is 0.024)


def small_plan(targets: Targets, seed: int, budget: int = 10, replications: int = 4) -> Plan:
    data = apply_overrides(read_scenario_dict(SCENARIOS / "baseline.toml"), SMALL, "baseline")
    return Plan(data, "baseline", targets, [Parameter("market.matching_efficiency", 0.012, 0.048)],
                budget=budget, replications=replications, seed=seed)


def planted_targets(tmp_path: Path) -> Targets:
    """Targets simulated at the planted value with other seeds; each range ±1.96 SD of that simulation
    (what a sample of this size could tell)."""
    draft = Targets.model_validate({"targets": [
        {"name": m, "moment": m, "figure": 0.5, "range": [0.0, 1.0], "source": "planted"}
        for m in ("monthly_outflow", "exits_to_work_share")]})
    plan = small_plan(draft, seed=99, replications=6)
    from labsim.design.calibrate import Evaluator

    store = Store(tmp_path / "planted")
    store.create({"identity": {}})
    values = Evaluator(plan, store, None)([np.array([PLANTED])])[0]
    mean, sd = values.mean(axis=1), values.std(axis=1, ddof=1)
    return Targets.model_validate({"targets": [
        {"name": t.name, "moment": t.moment, "figure": float(m), "range": [float(m - 1.96 * s), float(m + 1.96 * s)],
         "source": "planted"} for t, m, s in zip(draft.targets, mean, sd)]})


def test_calibration_recovers_a_planted_value_inside_its_interval(tmp_path):
    targets = planted_targets(tmp_path)
    cal = calibrate(small_plan(targets, seed=1), tmp_path / "cal", workers=1)
    (p,) = cal.parameters
    low, high = p.interval
    assert low <= PLANTED <= high, f"planted {PLANTED} outside the fitted interval {low:.4f}-{high:.4f} (fit {p.value:.4f})"
    assert high - low < 0.5 * (0.048 - 0.012), "an interval as wide as the bounds recovers nothing"
    assert abs(p.value - 0.024) > abs(p.value - PLANTED), "the fit stayed at the scenario's own value"
    for row in cal.targets:
        assert row.matches and abs(row.z) < 2 and row.simulated_se > 0
    assert Calibration.from_json(json.loads(json.dumps(cal.to_json()))) == cal  # calibration.json reads back as made


def test_calibrated_toml_carries_the_fitted_value_with_its_targets_and_date(tmp_path):
    from labsim.config.scenario import load_scenario

    targets = Targets.model_validate({"targets": [
        {"name": "outflow", "moment": "monthly_outflow", "figure": 0.16, "range": [0.15, 0.17], "source": "s"}]})
    plan = small_plan(targets, seed=1)
    plan.parameters.append(Parameter("services.activation_selection", 0.0, 6.0))
    cal = Calibration("baseline", (), (FittedValue("market.matching_efficiency", 0.031, (0.03, 0.032), (0.012, 0.048)),
                                       FittedValue("services.activation_selection", 2.5, (2.0, 3.0), (0.0, 6.0))),
                      0.0, 0, 0, 0.0)
    text = calibrated_toml((SCENARIOS / "baseline.toml").read_text(), plan, cal, "2026-11-29")
    path = tmp_path / "calibrated.toml"
    path.write_text(text)
    sc = load_scenario(path)
    assert sc.market.matching_efficiency == 0.031 and sc.services.activation_selection == 2.5
    assert sc.market.elasticity == 0.6  # the rest of the file is kept
    line = next(s for s in text.splitlines() if s.startswith("matching_efficiency"))
    assert "outflow" in line and "2026-11-29" in line  # no file: the targets by name


def test_a_target_against_another_setting_is_the_paired_difference():
    targets = Targets.model_validate({"targets": [
        {"name": "d", "moment": "take_up_rate", "figure": 0.0, "range": [-0.1, 0.1], "source": "s",
         "set": ["referral.mode=voluntary"], "against": ["referral.mode=mandatory"]}]})
    plan = small_plan(targets, seed=1)
    rows = [[{"take_up_rate": 0.3}, {"take_up_rate": 0.2}], [{"take_up_rate": 0.9}, {"take_up_rate": 0.8}]]
    assert target_values(plan, rows) == pytest.approx(np.array([[-0.6, -0.6]]))


TWO = "".join(f'[[targets]]\nname = "{m}"\nmoment = "{m}"\nfigure = {f}\nrange = [{lo}, {hi}]\nsource = "s"\n'
              for m, f, lo, hi in (("monthly_outflow", 0.16, 0.15, 0.17), ("long_term_share", 0.3, 0.26, 0.34)))
CLI = [sys.executable, "-m", "labsim", "calibrate", "baseline", "--targets", "TARGETS",
       "--params", "market.matching_efficiency=0.012:0.048", "--budget", "12", "--replications", "2",
       "--workers", "1", *[a for s in SMALL for a in ("--set", s)]]


def test_killed_calibration_resumes_to_the_same_fitted_values(tmp_path):
    (tmp_path / "two.toml").write_text(TWO)
    cli = [str(tmp_path / "two.toml") if a == "TARGETS" else a for a in CLI]
    out = tmp_path / "killed"
    proc = subprocess.Popen([*cli, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while len(list((out / "parts").glob("*.parquet"))) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "calibration.json").exists(), "killed too late: the calibration had finished"
    done = len(list((out / "parts").glob("*.parquet")))
    assert main([*cli[3:], "--out", str(out), "--resume", "--json"]) == 0
    whole = tmp_path / "whole"
    assert main([*cli[3:], "--out", str(whole), "--json"]) == 0
    resumed, uninterrupted = (json.loads((d / "calibration.json").read_text()) for d in (out, whole))
    assert resumed["parameters"] == uninterrupted["parameters"]
    assert resumed["targets"] == uninterrupted["targets"]
    assert resumed["runs"] == uninterrupted["runs"] and done >= 3  # every run the fit rests on, both times
    events = Store(out).status()
    resumed_at = max(i for i, e in enumerate(events) if e["event"] == "start")
    ran = sum(1 for e in events[resumed_at:] if e["event"] == "chunk")
    assert ran < sum(1 for e in Store(whole).status() if e["event"] == "chunk")  # stored candidates not rerun
    assert not list(out.rglob(".*tmp*"))


def test_calibration_refuses_an_existing_folder_without_resume(tmp_path, capsys):
    out = tmp_path / "cal"
    out.mkdir()
    assert main([*CLI[3:6], "finland_labour_market", *CLI[7:], "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err


# -- intervals that hold where the objective is flat (issue 25) ------------------------------------------

def _synthetic(moment, figure: float, sd: float, low: float, high: float):
    """A plan with one parameter and one target, and an `evaluate` whose moment is `moment(θ)` exactly
    (two identical replications: no simulation noise)."""
    targets = Targets.model_validate({"targets": [
        {"name": "m", "moment": "monthly_outflow", "figure": figure, "range": [figure - 1.96 * sd, figure + 1.96 * sd],
         "source": "s"}]})
    plan = small_plan(targets, seed=1)
    plan.parameters[:] = [Parameter("market.matching_efficiency", low, high)]
    calls = []

    def evaluate(thetas):
        calls.extend(thetas)
        return [np.array([[moment(float(t[0]))] * 2]) for t in thetas]

    return plan, evaluate, calls


def test_profile_interval_is_the_set_the_criterion_does_not_reject():
    """m(θ) = f + k (θ - f)³ is flat at the truth: the sandwich has no slope there, the profile gives
    |θ - f| <= (1.96 sd / k)^(1/3), asymmetric about a fit off the truth."""
    from labsim.design.calibrate import intervals

    f, sd, k = 0.3, 0.01, 50.0
    plan, evaluate, _ = _synthetic(lambda x: f + k * (x - f) ** 3, f, sd, 0.0, 1.0)
    half = (1.96 * sd / k) ** (1 / 3)
    lo, hi = intervals(plan, evaluate, np.array([f + 0.02]))
    assert lo[0] == pytest.approx(f - half, abs=2e-3) and hi[0] == pytest.approx(f + half, abs=2e-3)
    plan, evaluate, _ = _synthetic(lambda x: x, f, sd, 0.0, 1.0)  # linear: the textbook f ± 1.96 sd
    lo, hi = intervals(plan, evaluate, np.array([f]))
    assert lo[0] == pytest.approx(f - 1.96 * sd, rel=1e-3) and hi[0] == pytest.approx(f + 1.96 * sd, rel=1e-3)


def test_profile_interval_reaches_a_bound_the_targets_do_not_rule_out():
    from labsim.design.calibrate import intervals

    plan, evaluate, calls = _synthetic(lambda x: 0.3 + 0.001 * x, 0.3, 0.01, 0.0, 1.0)  # nearly no slope
    lo, hi = intervals(plan, evaluate, np.array([0.5]))
    assert (lo[0], hi[0]) == (0.0, 1.0) and len(calls) < 40


def test_profile_interval_holds_values_beyond_a_spike_of_noise():
    """m(θ) = θ with a narrow spike of noise at 0.305-0.312 (Q rejects there) and a fit at 0.29 (Q(fit) = 1):
    the criterion rejects only the spike inside 0.278-0.322, so the upper end is 0.322, not the spike."""
    from labsim.design.calibrate import intervals

    f, sd = 0.3, 0.01
    plan, evaluate, calls = _synthetic(lambda x: x + (0.05 if 0.305 < x < 0.312 else 0.0), f, sd, 0.0, 1.0)
    lo, hi = intervals(plan, evaluate, np.array([0.29]))
    assert any(0.305 < float(t[0]) < 0.312 for t in calls), "the profile never met the spike: no test"
    end = sd * np.sqrt(1 + 1.96**2)  # (θ - f)² / sd² - 1 = 3.84
    assert lo[0] == pytest.approx(f - end, abs=1e-3) and hi[0] == pytest.approx(f + end, abs=1e-3)
    assert len(calls) < 50


def coverage_study(tmp_path: Path, plantings: int, budget: int = 8, replications: int = 3,
                   record: Path | None = None) -> list[tuple]:
    """Plant matching_efficiency, simulate its targets on fresh seeds, draw each published figure from
    its stated uncertainty around that simulation, refit on other seeds: (planted, low, high) per planting.
    With `record` (or $LABSIM_COVERAGE_OUT), each planting is appended there as one JSON line when it ends
    (planted, fit, low, high, covered, the targets' figures and SDs, at: the Unix time it ended), so a
    long study can be read while it runs (docs/calibration.md, "The coverage study")."""
    rng = np.random.default_rng(2025)
    record = record or (Path(os.environ["LABSIM_COVERAGE_OUT"]) if os.environ.get("LABSIM_COVERAGE_OUT") else None)
    out = []
    for i in range(plantings):
        planted = float(rng.uniform(0.02, 0.04))
        draft = Targets.model_validate({"targets": [
            {"name": m, "moment": m, "figure": 0.5, "range": [0.0, 1.0], "source": "planted"}
            for m in ("monthly_outflow", "exits_to_work_share")]})
        from labsim.design.calibrate import Evaluator

        store = Store(tmp_path / f"planted{i}")
        store.create({"identity": {}})
        values = Evaluator(small_plan(draft, seed=1000 + i, replications=6), store, None)([np.array([planted])])[0]
        mean, sd = values.mean(axis=1), np.maximum(values.std(axis=1, ddof=1), 1e-4)
        figure = mean + rng.normal(0, sd)
        # The figure is off the planted value's moment by the draw (variance sd²) and by the noise of
        # the 6 runs' mean (sd² / 6): its stated uncertainty carries both, as a published figure's
        # standard error carries all its sampling noise. Stating sd alone leaves the planted truth
        # outside the criterion's model (docs/calibration.md, the coverage study).
        stated = sd * np.sqrt(1 + 1 / values.shape[1])
        targets = Targets.model_validate({"targets": [
            {"name": t.name, "moment": t.moment, "figure": float(f),
             "range": [float(f - 1.96 * s), float(f + 1.96 * s)], "source": "planted"}
            for t, f, s in zip(draft.targets, figure, stated)]})
        cal = calibrate(small_plan(targets, seed=i + 1, budget=budget, replications=replications),
                        tmp_path / f"cal{i}", workers=1)
        (p,) = cal.parameters
        out.append((planted, *p.interval))
        if record is not None:
            lo, hi = p.interval
            with open(record, "a") as f:
                f.write(json.dumps({"planting": i, "planted": planted, "fit": p.value, "low": lo, "high": hi,
                                    "covered": bool(lo <= planted <= hi), "figures": figure.tolist(),
                                    "sds": stated.tolist(), "at": time.time()}) + "\n")
        print(f"planting {i}: planted {planted:.5f} interval {p.interval[0]:.5f}-{p.interval[1]:.5f}", flush=True)
    return out


@pytest.mark.slow
def test_intervals_cover_planted_values(tmp_path):
    """Coverage over 40 plantings: at 95 % nominal, 34 or fewer covered has probability 1.4 % (the study
    covered 37 on 2026-12-05; the bar was 34, which let the 85 % of the first profile pass)."""
    study = coverage_study(tmp_path, 40)
    covered = sum(lo <= planted <= hi for planted, lo, hi in study)
    assert covered >= 35, study
