"""Scenario files: the bundled ones validate, overrides apply, bad input gets a clear error."""

from __future__ import annotations

import re

import numpy as np
import pytest

from labsim.config.errors import ScenarioError
from labsim.config.scenario import apply_overrides, load_scenario, parse_scenario, scenario_to_dict
from labsim.results.summary import results_of
from labsim.world.model import PilotModel

from conftest import SCENARIOS

BUNDLED = sorted(SCENARIOS.glob("*.toml"))
#: What a scenario comment must contain: a source from FACTS.md, or an honest label.
SOURCE = re.compile(
    r"assumption|planner's choice|calibrated|seed 00[04]|tem\.fi|yle\.fi|hs\.fi|mtvuutiset|okm\.fi|henkilostoala"
    r"|HE 51/2017|Uusimaa ELY|Petrongolo|Crépon|Behaghel|Bennmarker|Statistics Finland|TEM",
    re.IGNORECASE,
)


def test_the_four_issue_scenarios_are_bundled():
    names = {p.stem for p in BUNDLED}
    assert {"baseline", "fi_2016_job_placement_pilots", "fi_2017_regional_experiments",
            "fi_2019_growth_services"} <= names


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenarios_validate_and_say_what_they_are(path):
    sc = load_scenario(path)
    assert sc.name == path.stem and sc.description
    # every parameter in a bundled file carries a comment naming its source in FACTS.md, or saying it
    # is an assumption, a calibration or the planner's choice
    lines = [line for line in path.read_text().splitlines()
             if "=" in line and not line.lstrip().startswith("#") and not line.startswith(("name", "description"))]
    unsourced = [line for line in lines if "#" not in line or not SOURCE.search(line.split("#", 1)[1])]
    assert not unsourced, f"parameters without a source or 'assumption' in {path.name}: {unsourced}"


def participants_reached(scale: float, seeds: range) -> tuple[float, float]:
    """Customers who started in the regional experiments, scaled back to the full register: mean and
    Monte Carlo SE over seeds (the world shrunk by `scale`, participants counted and divided by it)."""
    path = SCENARIOS / "fi_2017_regional_experiments.toml"
    n = load_scenario(path).area.job_seekers
    sc = load_scenario(path, [f"area.job_seekers={round(n * scale)}"])
    reached = []
    for seed in seeds:
        m = PilotModel(sc, rng=seed)
        m.run_for(sc.referral.start_week + sc.referral.intake_weeks)
        reached.append(results_of(m).summary["participants"]["reached"] / scale)
    x = np.array(reached)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))


def test_regional_experiments_reach_about_41400_customers():
    """"About 41,400": within 5 % of it, beyond the Monte Carlo error. A tenth of the register gives a
    tenth of the participants (the places never bind), so the fast check runs a world of 7,400."""
    mean, se = participants_reached(0.1, range(3))
    assert abs(mean - 41_400) <= 0.05 * 41_400 + 2 * se, (mean, se)


@pytest.mark.slow
def test_regional_experiments_reach_about_41400_customers_at_full_size():
    mean, se = participants_reached(1.0, range(2))
    assert abs(mean - 41_400) <= 0.05 * 41_400 + 2 * se, (mean, se)


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
        ({"design": {"treatment_share": 1.5}}, "design.treatment_share", "less than or equal to 1"),
        ({"population": {"age_employability": {"under_25": 0.0}}}, "population.age_employability",
         "one shift for each of the age groups"),
        ({"population": {"education_employability": {"basic": 0, "secondary": 0, "phd": 1}}},
         "population.education_employability", "one shift for each of the education levels"),
        ({"providers": {"effort_levels": [0.5, 0.25]}}, "providers.effort_levels", "increasing"),
        ({"providers": {"effort_levels": [0.0, 1.5]}}, "providers.effort_levels.1", "less than or equal to 1"),
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
