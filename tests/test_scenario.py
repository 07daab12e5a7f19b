"""Scenario files: the bundled ones validate, overrides apply, bad input gets a clear error."""

from __future__ import annotations

import pytest

from labsim.config.errors import ScenarioError
from labsim.config.scenario import apply_overrides, load_scenario, parse_scenario, scenario_to_dict

from conftest import SCENARIOS

BUNDLED = sorted(SCENARIOS.glob("*.toml"))


def test_the_four_issue_scenarios_are_bundled():
    names = {p.stem for p in BUNDLED}
    assert {"baseline", "fi_2016_job_placement_pilots", "fi_2017_regional_experiments",
            "fi_2019_growth_services"} <= names


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenarios_validate_and_say_what_they_are(path):
    sc = load_scenario(path)
    assert sc.name == path.stem and sc.description
    # every parameter in a bundled file carries a comment (its meaning, source or "assumption")
    bare = [line for line in path.read_text().splitlines()
            if "=" in line and "#" not in line and not line.startswith(("name", "description"))]
    assert not bare, f"uncommented parameters in {path.name}: {bare}"


def test_regional_experiments_have_about_41400_customers():
    sc = load_scenario(SCENARIOS / "fi_2017_regional_experiments.toml")
    assert sc.area.job_seekers == 41_400 and sc.referral.mode == "mandatory"


def test_overrides_reach_nested_fields_and_keep_types():
    sc = load_scenario(SCENARIOS / "baseline.toml",
                       ["referral.mode=mandatory", "area.job_seekers=5000",
                        "market.congestion=false", "referral.eligibility.sectors=['ict']"])
    assert sc.referral.mode == "mandatory" and sc.area.job_seekers == 5000
    assert sc.market.congestion is False and sc.referral.eligibility.sectors == ["ict"]


def test_resolved_scenario_round_trips():
    sc = load_scenario(SCENARIOS / "baseline.toml")
    assert parse_scenario(scenario_to_dict(sc)) == sc


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"area": {"job_seekers": -5}}, "area.job_seekers", "greater than or equal to 1"),
        ({"area": {"job_seekers": "many"}}, "area.job_seekers", "integer"),
        ({"referral": {"mode": "sometimes"}}, "referral.mode", "'voluntary' or 'mandatory'"),
        ({"referral": {"moed": "mandatory"}}, "referral.moed", "unknown field"),
        ({"population": {"age_shares": {"under_25": 0.5, "age_25_54": 0.6, "over_55": 0.2}}},
         "population.age_shares", "sum to 1"),
        ({"referral": {"eligibility": {"min_weeks_unemployed": 30, "max_weeks_unemployed": 10}}},
         "referral.eligibility", "must not be below"),
        ({"referral": {"eligibility": {"sectors": ["fishing"]}}}, None, "unknown sectors"),
        ({"market": {"elasticity": 1.5}}, "market.elasticity", "less than 1"),
        ({"design": {"treatment_share": 0}}, "design.treatment_share", "greater than 0"),
    ],
)
def test_bad_scenarios_name_the_file_field_and_what_is_allowed(data, field, words):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data, "my.toml")
    message = str(err.value)
    assert message.startswith("my.toml")
    if field:
        assert f"'{field}'" in message
    assert words in message
    assert "\n" not in message


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[area\njob_seekers = 1")
    with pytest.raises(ScenarioError, match="bad.toml: not valid TOML"):
        load_scenario(bad)


def test_malformed_override():
    with pytest.raises(ScenarioError, match="dotted.path=value"):
        apply_overrides({}, ["referral.mode"], "x.toml")
    with pytest.raises(ScenarioError, match="is a value, not a section"):
        apply_overrides({"weeks": 5}, ["weeks.n=3"], "x.toml")
