"""`labsim sensitivity` (design/sensitivity.py): an assumption that does nothing gets mu* ~ 0 and one that
matters ranks first, with a stub simulator (exact) and in a small world (common random numbers); the
tornado's arithmetic; the command's folder, chart and report; bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from labsim.cli import main
from labsim.config.errors import LabsimError
from labsim.design import sensitivity as sens
from labsim.config.assumptions import parse_span
from labsim.design.sensitivity import SensitivitySettings, analyse, ranges_to_vary

from conftest import SCENARIOS, small_scenario

TEXTBOOK = ("referral.mode=mandatory", "referral.no_show=0", "referral.sanction_effort_gain=0",
            "providers.effort=1.0", "providers.exit_loss_eur=1e12", "referral.target_participants=300")


def _stub(task, seed):
    """A pilot whose estimate is the effort effect / 50 plus noise from the world's seed; its SE is fixed."""
    _, job = task.payload
    noise = np.random.default_rng(seed).normal(0, 0.002)
    return {"point": task.payload[0], "replication": task.key[-1], "estimate": job.scenario.providers.effort_effect / 50 + noise,
            "se": 0.01, "reject": False}


@pytest.mark.parametrize("method", ["morris", "oat"])
def test_stub_an_idle_assumption_scores_zero_and_the_effective_one_ranks_first(monkeypatch, method):
    monkeypatch.setattr(sens, "_simulate_point", _stub)
    sc = small_scenario()
    ranges = ranges_to_vary(sc, ["payment.attachment_fee_eur=0:2000", "providers.effort_effect=0.2:1.2"])
    res = analyse(sc, ranges, SensitivitySettings(method=method, trajectories=6, sims=5, workers=1))
    first, idle = res.parameters
    assert first.path == "providers.effort_effect" and idle.path == "payment.attachment_fee_eur"
    assert (res.central_power is None) == (method == "morris")  # only the tornado has a centre
    assert 0 <= res.seconds < 600 and res.sims_total == 5 * len(res.points)
    if method == "morris":
        assert idle.mu_star == pytest.approx(0, abs=1e-12)  # the same worlds at every point
        # power = Phi(effect/50/0.01 - 1.96): a step of 2/3 of the range moves it by a known amount
        assert first.mu_star > 0.05 and first.mu > 0
    else:
        assert idle.swing == pytest.approx(0, abs=1e-12)
        assert res.central_power == res.points[0].power
        assert [res.points[0].values[r.path] for r in ranges] == [r.central for r in ranges]
        z = 1.959964
        assert first.power_low == pytest.approx(math.erfc(-(0.2 / 50 / 0.01 - z) / math.sqrt(2)) / 2, abs=0.03)
        assert first.swing > 0.4
        assert first.mde_low == pytest.approx((z + 0.841621) * 0.01, rel=1e-5)  # (z + z_0.8) x SE
    assert type(res).from_json(json.loads(json.dumps(res.to_json()))) == res  # sensitivity.json reads back as made


def test_small_world_effort_effect_matters_and_the_attachment_fee_does_not():
    # with fixed provider effort and no exits the fee changes nobody's outcome: identical worlds, mu* = 0
    sc = small_scenario(*TEXTBOOK)
    ranges = ranges_to_vary(sc, ["payment.attachment_fee_eur=0:2000", "providers.effort_effect=0.2:1.5"])
    res = analyse(sc, ranges, SensitivitySettings(method="morris", trajectories=3, sims=4, workers=2, seed=2))
    first, idle = res.parameters
    assert first.path == "providers.effort_effect", res.parameters
    assert idle.mu_star == pytest.approx(0, abs=1e-9) and first.mu_star > 0.05


def test_params_are_checked():
    assert parse_span("providers.effort_effect=0.3:1") == ("providers.effort_effect", 0.3, 1.0)
    for bad in ("providers.effort_effect=1:0.3", "providers.effort_effect=a:b", "=0:1"):
        with pytest.raises(LabsimError):
            parse_span(bad)
    with pytest.raises(LabsimError, match="not a scenario field"):
        ranges_to_vary(small_scenario(), ["providers.nothing=0:1"])
    with pytest.raises(LabsimError, match="no assumptions"):
        ranges_to_vary(small_scenario("assumptions=[]"), [])


def test_slack_market_bundles_ranges_for_the_command():
    from labsim.config.scenario import load_scenario

    paths = [r.path for r in ranges_to_vary(load_scenario(SCENARIOS / "slack_market.toml"), [])]
    assert "providers.effort_effect" in paths and "market.matching_efficiency" in paths


def test_command_writes_json_chart_and_report(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sens, "_simulate_point", _stub)
    out = tmp_path / "s"
    args = ["sensitivity", "baseline", "--method", "oat", "--params", "providers.effort_effect=0.2:1.2",
            "--params", "payment.attachment_fee_eur=0:2000", "--sims", "3", "--workers", "1", "--out", str(out),
            "--set", "area.job_seekers=3000"]
    assert main(args) == 0
    data = json.loads((out / "sensitivity.json").read_text())
    assert data["parameters"][0]["path"] == "providers.effort_effect" and len(data["points"]) == 5
    assert (out / "points.csv").is_file() and (out / "charts" / "sensitivity.png").is_file()
    assert main(["report", str(out)]) == 0
    html = (out / "report-en.html").read_text()
    assert "effect of the service on search" in html and "moves the pilot" in html  # the lever by its name
    assert main(["sensitivity", "baseline", "--sims", "3", "--set", "assumptions=[]",
                 "--out", str(tmp_path / "t")]) == 2  # no ranges
    assert "no assumptions" in capsys.readouterr().err and not (tmp_path / "t").exists()


def test_the_python_defaults_match_the_cli():
    # a planner calling analyse() from Python gets what `labsim sensitivity` does by default
    from labsim.cli import build_parser

    args = build_parser().parse_args(["sensitivity", "baseline"])
    s = SensitivitySettings()
    for name in ("method", "by", "at_size", "trajectories", "sims", "max_sims", "alpha", "seed", "workers"):
        assert getattr(s, name) == getattr(args, name), name
    # --horizon defaults to the scenario's primary horizon, 26 weeks unless the scenario says otherwise
    from labsim.config.scenario import Design

    assert args.horizon is None and s.horizon == Design().primary_horizon_weeks


def test_morris_moves_on_a_grid_of_four_levels_and_settings_are_checked():
    sc = small_scenario()
    ranges = ranges_to_vary(sc, ["providers.effort_effect=0.2:1.1"])
    x = sens.design_points(ranges, SensitivitySettings(trajectories=8, seed=3))
    assert set(np.round(x[:, 0], 9)) <= {0.2, 0.5, 0.8, 1.1}
    for bad in (dict(alpha=0.0), dict(alpha=0.5), dict(sims=1), dict(trajectories=1), dict(method="sobol")):
        with pytest.raises(LabsimError):
            SensitivitySettings(**bad).check()


def test_params_and_vary_are_read_by_the_same_rules_naming_their_option():
    from labsim.design.evidence import ranges_of

    sc = small_scenario()  # providers.effort_effect 0.6 in baseline
    for option in ("--vary", "--params"):
        (r,) = [r for r in ranges_of(sc, ["providers.effort_effect=0.3:1"], option) if r.path == "providers.effort_effect"]
        assert (r.low, r.central, r.high, r.source) == (0.3, sc.providers.effort_effect, 1.0, option)
        for bad, words in [("providers.effort_effect=0.7:1", "between low and high"),
                           ("providers.effort_effect=1:0.3", "low not above high"),
                           ("providers.colour=0:1", "not a scenario field"),
                           ("area.offices=0:9", "area.offices")]:  # an end the field does not take
            with pytest.raises(LabsimError, match=words) as err:
                ranges_of(sc.with_values({"area.offices": 4}) if bad.startswith("area") else sc, [bad], option)
            assert str(err.value).startswith(option)


def test_points_from_another_sensitivity_are_refused(tmp_path, capsys, monkeypatch):
    """points.parquet carries its inputs' hash: one copied in from a run with another seed is refused in
    one line by `report` and `plot`; the folder's own reads."""
    import shutil

    monkeypatch.setattr(sens, "_simulate_point", _stub)
    base = ["sensitivity", "baseline", "--method", "oat", "--params", "providers.effort_effect=0.2:1.2", "--sims", "3",
            "--workers", "1", "--set", "area.job_seekers=3000", "--json"]
    for seed in (7, 8):
        assert main([*base, "--seed", str(seed), "--out", str(tmp_path / f"s{seed}")]) == 0
    capsys.readouterr()
    assert main(["report", str(tmp_path / "s7")]) == 0
    shutil.copy(tmp_path / "s8" / "points.parquet", tmp_path / "s7" / "points.parquet")
    for command in ("report", "plot"):
        capsys.readouterr()
        assert main([command, str(tmp_path / "s7")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "points.parquet" in err and "another sensitivity" in err


def test_power_of_pilots_with_a_zero_standard_error():
    """A tiny pilot whose arms all end alike has SE 0: its z test rejects any nonzero estimate and not 0,
    without a division warning (which `labsim sensitivity` on a 300-seeker world turned into an internal
    error); elsewhere the normal power, Phi(|m| / s - z)."""
    import warnings

    from scipy import stats

    from labsim.design.analytic import normal_power
    from labsim.design.sensitivity import power_of

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = normal_power(np.array([0.0, 0.02, np.nan, 0.02]), np.array([0.0, 0.0, 0.0, 0.01]), 1.96)
        assert power_of(np.zeros(3), np.zeros(3), 0.05)[0] == 0.0
    assert got[:2].tolist() == [0.0, 1.0] and np.isnan(got[2])
    assert got[3] == pytest.approx(stats.norm.cdf(2.0 - 1.96))
