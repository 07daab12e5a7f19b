"""Scenario files: the bundled ones validate, overrides apply, bad input gets a clear error."""

from __future__ import annotations

import re

import numpy as np
import pytest

from labsim.config.errors import ScenarioError
from labsim.config.parts import MAX_BURN_IN_WEEKS, MAX_JOB_SEEKERS, MAX_WEEKS
from labsim.config.scenario import (
    Market,
    Scenario,
    apply_overrides,
    load_scenario,
    parse_scenario,
    scenario_to_dict,
)
from labsim.results.summary import results_of
from labsim.world.model import PilotModel

from conftest import ROOT, SCENARIOS

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
        reached.append(results_of(m).summary.participants.reached / scale)
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
        # values the model cannot run: non-finite numbers, anywhere (plain, in a table, in a list)
        ({"referral": {"take_up": {"intercept": float("nan")}}}, "referral.take_up.intercept", "finite"),
        ({"payment": {"outcome": {"fee_eur": float("inf")}}}, "payment.outcome.fee_eur", "finite"),
        ({"population": {"age_shares": {"under_25": float("nan"), "age_25_54": 0.8, "over_55": 0.2}}},
         "population.age_shares.under_25", "finite"),
        ({"payment": {"preset": "differential", "groups": {"multipliers": [1.0, float("inf"), 1.0]}}},
         "payment.groups.multipliers.1", "finite"),
        # ... jobs that never end, people who never come back, no payment group
        ({"market": {"separation": {**Market().separation, "gig_work": 0.0}}}, "market.separation",
         "above 0 (got 0 for ['gig_work'])"),
        ({"market": {"from_studies": 0.0}}, "market.from_studies", "above 0"),
        ({"market": {"from_inactivity": 0.0}}, "market.from_inactivity", "above 0"),
        ({"payment": {"preset": "differential", "groups": {"multipliers": []}}}, "payment.groups",
         "at least one multiplier"),
        # ... a bool, a decimal or text where a number belongs (TOML's `weeks = true` used to be 1)
        ({"weeks": True}, "weeks", "valid integer (got True)"),
        ({"area": {"offices": 2.0}}, "area.offices", "valid integer"),
        ({"payment": {"attachment_fee_eur": True}}, "payment.attachment_fee_eur", "valid number"),
        ({"payment": {"attachment_fee_eur": "500"}}, "payment.attachment_fee_eur", "valid number"),
        ({"market": {"congestion": 1}}, "market.congestion", "valid boolean"),
        # ... and sizes beyond what one run can hold or finish (docs/model.md, "Limits")
        ({"weeks": 10**9}, "weeks", f"at most {MAX_WEEKS}"),
        ({"area": {"job_seekers": 2**40}}, "area.job_seekers", f"at most {MAX_JOB_SEEKERS:,}"),
        ({"area": {"burn_in_weeks": MAX_BURN_IN_WEEKS + 1}}, "area.burn_in_weeks", "at most"),
        ({"area": {"offices": 10**6}}, "area.offices", "at most"),
        ({"providers": {"count": 10**6}}, "providers.count", "at most"),
        ({"market": {"sectors": [{"name": "all", "seeker_share": 1.0, "employers": 10**6}]}},
         "market.sectors.0.employers", "at most"),
        ({"market": {"sectors": [{"name": "all", "seeker_share": 1.0, "vacancies_per_100_seekers": 1e300}]}},
         "market.sectors.0.vacancies_per_100_seekers", "at most"),
        ({"market": {"sectors": [{"name": f"s{i}", "seeker_share": 1 / 128} for i in range(128)]}},
         "market.sectors", "at most"),
        ({"payment": {"sustainment": {"fee_eur": 1.0, "horizon_weeks": 2**40}}},
         "payment.sustainment.horizon_weeks", "less than or equal to"),
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


def test_with_values_returns_a_new_validated_scenario_and_leaves_the_old_one():
    base = load_scenario(SCENARIOS / "fi_2019_growth_services.toml")
    assert any(a.path == "providers.effort_effect" for a in base.assumptions)
    changed = base.with_values({"providers.effort_effect": np.float64(0.4), "area.offices": 6,
                                "referral.mode": "voluntary"})
    assert changed.providers.effort_effect == 0.4 and type(changed.providers.effort_effect) is float
    assert (changed.area.offices, changed.referral.mode) == (6, "voluntary")
    # the value set leaves its evidence range behind; the other ranges and the old scenario stay
    assert [a.path for a in changed.assumptions] == [a.path for a in base.assumptions
                                                     if a.path != "providers.effort_effect"]
    assert base.providers.effort_effect != 0.4 and base.referral.mode == "mandatory"
    assert base.with_values({}) == base
    # the same values written as --set overrides give the same scenario
    same = load_scenario(SCENARIOS / "fi_2019_growth_services.toml",
                         ["providers.effort_effect=0.4", "area.offices=6", 'referral.mode="voluntary"'])
    assert same == changed
    assert base.with_values({"payment.preset": "fixed_fee"}).payment == parse_scenario(
        {"payment": {"preset": "fixed_fee"}}).payment  # a preset replaces the contract's terms


@pytest.mark.parametrize("values, words", [
    ({"providers.nothing": 1}, ["providers.nothing", "not a scenario field", "effort_effect"]),
    ({"weeks.n": 1}, ["weeks.n", "a value, not a section"]),
    ({"colour": 1}, ["colour", "allowed:", "providers"]),
    ({"providers.capacity": 2.5}, ["providers.capacity", "valid integer"]),
    ({"referral.mode": "sometimes"}, ["referral.mode", "'voluntary' or 'mandatory'"]),
    ({"design.treatment_share": 1.5}, ["design.treatment_share", "less than or equal to 1"]),
])
def test_with_values_refuses_an_unknown_path_or_bad_value_naming_both(values, words):
    base = load_scenario(SCENARIOS / "baseline.toml")
    with pytest.raises(ScenarioError) as err:
        base.with_values(values, "--vary")
    assert str(err.value).startswith("--vary: field ")
    for word in words:
        assert word in str(err.value), (word, str(err.value))


def test_ceilings_are_said_in_the_docs():
    limits = (ROOT / "docs" / "model.md").read_text().split("## Limits", 1)[-1]
    for ceiling in (MAX_JOB_SEEKERS, MAX_WEEKS, MAX_BURN_IN_WEEKS):
        assert f"{ceiling:,}" in limits, ceiling


def test_work_forms_left_out_get_no_jobs(small):
    """A scenario may name only some forms of work: the others get share 0, in the schema and the world."""
    from labsim.config.states import WORK_FORMS, WORK_STATES, is_employed
    from labsim.world.model import PilotModel

    sc = small("market.work_forms={permanent_full_time=0.7, gig_work=0.3}", "weeks=10")
    assert sc.market.work_forms == {f: {"permanent_full_time": 0.7, "gig_work": 0.3}.get(f, 0.0)
                                    for f in WORK_FORMS}
    model = PilotModel(sc, rng=3)
    model.run_for(10)
    state = model.seekers.state
    named = {WORK_STATES[WORK_FORMS.index(f)] for f in ("permanent_full_time", "gig_work")}
    assert set(state[is_employed(state)]) == named  # both named forms occur, no other does


EXTREMES = {
    "nobody searches (all leave for inactivity at once)": ["market.to_inactivity=1.0"],
    "vacancies never expire": ["market.vacancy_expiry=0.0"],
    "nobody unemployed at week 0, profiled payment groups": [
        "market.from_studies=1e-12", "payment.preset='differential'"],
    "every client a job, every fee huge": ["market.matching_efficiency=1e300", "payment.outcome.fee_eur=1e300"],
}


@pytest.mark.parametrize("overrides", EXTREMES.values(), ids=EXTREMES.keys())
def test_accepted_extremes_run_and_give_finite_summaries(overrides):
    """Values at the edge of what the schema accepts run to the end (each crashed the world once)."""
    import json

    from labsim.results.summary import results_of
    from labsim.world.model import PilotModel

    data = apply_overrides({}, ["area.job_seekers=300", "area.burn_in_weeks=3", "weeks=6",
                                "referral.mode='mandatory'", *overrides], "extreme")
    model = PilotModel(parse_scenario(data, "extreme"), rng=1)
    model.run_for(6)
    json.dumps(results_of(model).summary.to_json(), allow_nan=False)


def _numeric_fields(model, prefix=""):
    """(dotted name, annotated type, bounds) of every plain number in the schema, nested sections too."""
    import annotated_types as at
    from pydantic import BaseModel

    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _numeric_fields(kind, f"{prefix}{name}.")
            continue
        if kind not in (int, float, int | None, float | None):
            continue
        bounds = {type(m).__name__: getattr(m, type(m).__name__.lower()) for m in info.metadata
                  if isinstance(m, at.Ge | at.Gt | at.Le | at.Lt)}
        yield f"{prefix}{name}", int if kind in (int, int | None) else float, bounds


def _edges(kind, bounds):
    """The smallest and largest values a number field accepts (1e300 stands for an unbounded float)."""
    if kind is int:
        return [bounds.get("Ge", 0), bounds["Le"]]
    low = bounds["Ge"] if "Ge" in bounds else bounds["Gt"] + 1e-12 if "Gt" in bounds else -1e300
    high = bounds["Le"] if "Le" in bounds else bounds["Lt"] - 1e-9 if "Lt" in bounds else 1e300
    return [low, high]


EDGES = [f"{name}={value!r}" for name, kind, bounds in _numeric_fields(Scenario)
         for value in _edges(kind, bounds)]
EDGES += ["providers.effort=0.0", "providers.effort=1.0", "providers.exit_loss_eur=0.0",
          "providers.exit_loss_eur=1e300"]  # optional numbers, which the walk above skips


@pytest.mark.parametrize("override", EDGES)
def test_every_accepted_edge_value_runs(override):
    """Each number at the edge of what the schema accepts (one at a time, in a tiny mandatory world)
    either is refused with a ScenarioError or runs to the end with a finite summary."""
    import json
    import warnings

    from labsim.results.summary import results_of
    from labsim.world.model import PilotModel

    data = apply_overrides({}, ["area.job_seekers=300", "area.burn_in_weeks=3", "weeks=6",
                                "referral.mode='mandatory'", override], "edge")
    try:
        scenario = parse_scenario(data, "edge")
    except ScenarioError:
        return  # refused with the usual one-line message (a cross-field rule)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = PilotModel(scenario, rng=1)
        model.run_for(min(scenario.weeks, 6))
        json.dumps(results_of(model).summary.to_json(), allow_nan=False)


def test_referral_mode_design_and_payment_model_are_enums_written_as_their_text():
    from labsim.config.payment import PRESETS, PaymentPreset
    from labsim.config.scenario import Randomisation, ReferralMode

    sc = load_scenario(SCENARIOS / "baseline.toml", ['referral.mode="mandatory"', 'design.randomisation="office"',
                                                     'payment.preset="fixed_fee"', "area.offices=4"])
    assert sc.referral.mode is ReferralMode.MANDATORY and sc.design.randomisation is Randomisation.OFFICE
    assert sc.payment.preset is PaymentPreset.FIXED_FEE and set(PRESETS) == set(PaymentPreset)
    written = scenario_to_dict(sc)  # the manifest's JSON keeps the text a scenario file writes
    assert (written["referral"]["mode"], written["design"]["randomisation"], written["payment"]["preset"]) == (
        "mandatory", "office", "fixed_fee")
    again = parse_scenario(written)
    assert type(written["referral"]["mode"]) is str
    assert (again.referral, again.design, again.payment.preset) == (sc.referral, sc.design, sc.payment.preset)
