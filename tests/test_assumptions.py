"""The scenario's [[assumptions]] table: evidence ranges that code reads, checked like every field."""

import pytest

from labsim.config.assumptions import value_at
from labsim.config.errors import ScenarioError
from labsim.config.scenario import parse_scenario

GOOD = {"path": "providers.effort_effect", "low": 0.3, "high": 1.0, "source": "provider_effects.toml"}


def test_an_assumption_is_read_with_its_range_and_the_scenarios_value_as_centre():
    s = parse_scenario({"assumptions": [GOOD]})
    (a,) = s.assumptions
    assert (a.path, a.low, a.high, a.distribution) == ("providers.effort_effect", 0.3, 1.0, "uniform")
    assert value_at(s, a.path) == s.providers.effort_effect


@pytest.mark.parametrize("change, words", [
    ({"path": "providers.nosuch"}, "is not a scenario field"),
    ({"path": "name"}, "String should match pattern"),
    ({"path": "area"}, "String should match pattern"),
    ({"path": "referral.mode"}, "is not a number"),
    ({"low": 0.7}, "lies outside its evidence range"),
    ({"low": 1.0, "high": 0.3}, "must be below high"),
    ({"source": ""}, "at least 1 character"),
    ({"distribution": "normal"}, "'uniform' or 'triangular'"),
])
def test_a_bad_assumption_is_one_line_naming_the_file(change, words):
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"assumptions": [GOOD | change]}, "f.toml")
    assert "f.toml" in str(err.value) and words in str(err.value)


def test_an_assumption_named_twice_is_refused():
    with pytest.raises(ScenarioError, match="named twice"):
        parse_scenario({"assumptions": [GOOD, GOOD]}, "f.toml")


def test_setting_an_assumed_parameter_fixes_it_and_drops_its_range():
    from labsim.config.scenario import apply_overrides

    data = {"assumptions": [GOOD, GOOD | {"path": "referral.no_show", "low": 0.0, "high": 0.5}]}
    s = parse_scenario(apply_overrides(data, ["providers.effort_effect=1.5"], "f.toml"), "f.toml")
    assert s.providers.effort_effect == 1.5
    assert [a.path for a in s.assumptions] == ["referral.no_show"]
