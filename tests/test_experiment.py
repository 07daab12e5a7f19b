"""Experiment files: points from grids, zips and Latin hypercubes; clear errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest

from labsim.cli import main
from labsim.config.errors import ScenarioError
from labsim.config.experiment import load_experiment

from conftest import ROOT

BASE = ROOT / "scenarios" / "baseline.toml"
SMALL = '["area.job_seekers=1500", "area.burn_in_weeks=8", "weeks=30", "referral.target_participants=100"]'


def experiment(tmp_path, body: str, *, head: str | None = None, name: str = "exp"):
    """Write an experiment file on the small baseline world and return its path."""
    head = head if head is not None else f'scenario = "{BASE}"\nset = {SMALL}\nreplications = 3\n'
    path = tmp_path / f"{name}.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


def test_points_cross_grids_and_zips_levers_first(tmp_path):
    path = experiment(tmp_path, """
[levers.grid]
"referral.mode" = ["voluntary", "mandatory"]
[levers.zip]
"referral.target_participants" = [50, 100, 200]
"providers.capacity" = [25, 50, 100]
[uncertainties.grid]
"market.matching_efficiency" = [0.03, 0.08]
""")
    plan = load_experiment(path)
    assert plan.factors == ["referral.mode", "referral.target_participants", "providers.capacity",
                            "market.matching_efficiency"]
    assert len(plan.points) == 2 * 3 * 2
    assert [p.index for p in plan.points] == list(range(12))
    seen = {tuple(p.values.values()) for p in plan.points}
    assert len(seen) == 12
    for p in plan.points:  # zipped values move together, and each point's scenario carries its values
        assert p.values["providers.capacity"] * 2 == p.values["referral.target_participants"]
        assert p.scenario.referral.mode == p.values["referral.mode"]
        assert p.scenario.providers.capacity == p.values["providers.capacity"]
        assert p.scenario.market.matching_efficiency == p.values["market.matching_efficiency"]
        assert p.scenario.area.job_seekers == 1500  # the fixed `set` applies to every point
    assert plan.points[0].values["referral.mode"] == "voluntary"  # the last factor varies fastest
    assert plan.points[1].values["market.matching_efficiency"] == 0.08


def test_unquoted_dotted_keys_mean_the_same_as_quoted(tmp_path):
    quoted = load_experiment(experiment(tmp_path, '[levers.grid]\n"referral.mode" = ["mandatory"]\n', name="a"))
    nested = load_experiment(experiment(tmp_path, "[levers.grid]\nreferral.mode = ['mandatory']\n", name="b"))
    assert quoted.points[0].values == nested.points[0].values == {"referral.mode": "mandatory"}


def test_latin_hypercube_uses_every_slice_of_every_range_once(tmp_path):
    body = """
[uncertainties]
samples = 10
[uncertainties.ranges]
"market.matching_efficiency" = [0.02, 0.07]
"area.offices" = [1, 10]
"""
    plan = load_experiment(experiment(tmp_path, body))
    eff = np.array([p.values["market.matching_efficiency"] for p in plan.points])
    offices = sorted(p.values["area.offices"] for p in plan.points)
    # one draw in each tenth of the range (a random sample would leave a tenth empty ~99.96 % of the time)
    assert sorted(np.floor((eff - 0.02) / 0.005).astype(int)) == list(range(10))
    assert offices == list(range(1, 11))  # whole numbers for a whole-number range, each once
    assert all(isinstance(p.scenario.area.offices, int) for p in plan.points)
    again = load_experiment(experiment(tmp_path, body, name="again"))
    assert [p.values for p in again.points] == [p.values for p in plan.points]  # same seed, same draws
    other = load_experiment(experiment(tmp_path, "seed = 99\n" + body, name="other"))
    assert [p.values for p in other.points] != [p.values for p in plan.points]


BAD = {
    "unknown field path": ('[levers.grid]\n"referral.mod" = ["mandatory"]\n', "levers.grid.referral.mod",
                           "allowed: mode,"),
    "empty grid": ('[levers.grid]\n"referral.mode" = []\n', "levers.grid.referral.mode", "at least one value"),
    "unknown section": ('[lever.grid]\n"referral.mode" = ["mandatory"]\n', "'lever'", "allowed: name,"),
    "unknown key in a section": ('[levers]\ngird = {}\n', "levers.gird", "allowed: grid, zip"),
    "zipped lists of different lengths": (
        '[levers.zip]\n"referral.target_participants" = [50, 100]\n"providers.capacity" = [25]\n',
        "levers.zip", "same length"),
    "path into a value": ('[levers.grid]\n"market.separation.gig_work" = [0.1]\n',
                          "market.separation.gig_work", "vary it as a whole"),
    "value the schema refuses": ('[levers.grid]\n"design.treatment_share" = [0.5, 1.5]\n',
                                 "point 1: design.treatment_share=1.5", "less than or equal to 1"),
    "varied twice": ('[levers.grid]\n"weeks" = [20]\n[uncertainties.grid]\n"weeks" = [30]\n',
                     "uncertainties.grid.weeks", "varied twice"),
    "ranges without samples": ('[uncertainties.ranges]\n"weeks" = [20, 30]\n', "uncertainties", "samples"),
    "bad fixed change": ('set = ["area.seekers=10"]\n', "area.seekers", "allowed: job_seekers"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_experiment_files_get_errors_naming_file_field_and_what_is_allowed(tmp_path, case):
    body, field, hint = BAD[case]
    if body.startswith("set ="):
        path = experiment(tmp_path, body, head=f'scenario = "{BASE}"\nreplications = 2\n')
    else:
        path = experiment(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_experiment(path)
    message = str(err.value)
    assert message.startswith(str(path)) and field in message and hint in message, message


def test_replications_below_one_and_a_missing_base_are_refused(tmp_path):
    zero = experiment(tmp_path, "", head=f'scenario = "{BASE}"\nreplications = 0\n')
    with pytest.raises(ScenarioError, match="field 'replications': .*greater than or equal to 1"):
        load_experiment(zero)
    missing = experiment(tmp_path, "", head='scenario = "nowhere.toml"\nreplications = 2\n', name="m")
    with pytest.raises(ScenarioError, match="field 'scenario': no scenario file"):
        load_experiment(missing)
    with pytest.raises(ScenarioError, match="field 'replications': missing"):
        load_experiment(experiment(tmp_path, "", head=f'scenario = "{BASE}"\n', name="r"))


@pytest.mark.parametrize("case", ["unknown field path", "empty grid", "unknown section", "no replications"])
def test_cli_reports_a_bad_experiment_on_one_line_with_exit_2_and_writes_nothing(tmp_path, capsys, case):
    if case == "no replications":
        path = experiment(tmp_path, "", head=f'scenario = "{BASE}"\nreplications = 0\n')
    else:
        path = experiment(tmp_path, BAD[case][0])
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("labsim: error: ") and "\n" not in err and "Traceback" not in err
    assert not out.exists()


def test_cli_refuses_replications_below_one(tmp_path, capsys):
    path = experiment(tmp_path, "")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--replications", "0"]) == 2
    err = capsys.readouterr().err
    assert "--replications" in err and "1 or more" in err and err.count("\n") == 1


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_experiments_are_valid(path):
    plan = load_experiment(path)
    assert plan.experiment.name == path.stem
    assert len(plan.points) > 1 and plan.experiment.replications >= 10
    assert plan.experiment.description


def test_every_experiment_key_is_documented():
    from pydantic import BaseModel

    from labsim.config.experiment import Experiment

    def keys(model, prefix=""):
        for name, info in model.model_fields.items():
            sub = info.annotation
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                yield from keys(sub, f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}"

    docs = (ROOT / "docs" / "experiments.md").read_text(encoding="utf-8")
    missing = [k for k in keys(Experiment) if f"| `{k}` |" not in docs]
    assert not missing, f"experiment keys missing from docs/experiments.md: {missing}"
