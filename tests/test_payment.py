"""Payment models and provider behaviour: books agree, effort follows the money, viability, bad input.

Statistical checks compare a difference with a multiple of its Monte Carlo standard error, estimated
from the run's own client-level data (ratio estimators linearised), never with a hand-picked margin.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from labsim.config.errors import ScenarioError
from labsim.world.model import PilotModel
from labsim.config.payment import PRESETS, TERMS
from labsim.config.scenario import parse_scenario, scenario_to_dict
from labsim.config.states import State
from labsim.world.accounts import break_even_clients
from labsim.results.summary import results_of

from conftest import small_scenario

MANY = ["referral.mode=mandatory", "referral.target_participants=5000", "providers.capacity=400"]


def run(*overrides: str, seed: int = 1, **kw) -> PilotModel:
    sc = small_scenario(*overrides, **kw)
    model = PilotModel(sc, rng=seed)
    model.run_for(sc.weeks)
    return model


# -- bad settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payment", "field", "words"),
    [
        ({"preset": "no_cure_no_pay"}, "payment.preset", "allowed: ['differential'"),
        ({"attachment_fee_eur": -100}, "payment.attachment_fee_eur", "greater than or equal to 0"),
        ({"outcome": {"fee_eur": -1}}, "payment.outcome.fee_eur", "greater than or equal to 0"),
        ({"sustainment": {"fee_eur": 50}}, "payment.sustainment", "horizon_weeks"),
        ({"outcome": {"forms": {"gig": 1.0}}}, "payment.outcome.forms", "unknown work forms"),
        ({"groups": {"by": "duration", "multipliers": [1, 2]}}, "payment.groups", "duration_cuts_weeks"),
    ],
)
def test_bad_payment_settings_name_the_field(payment, field, words):
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"payment": payment}, "pilot.toml")
    assert err.value.field == field and words in err.value.problem
    assert str(err.value).startswith("pilot.toml: field")


def test_preset_with_overriding_terms():
    sc = parse_scenario({"payment": {"preset": "fi_2017_ely", "outcome": {"after_weeks": 13}}})
    p = sc.payment
    assert p.outcome.fee_eur == 1_700 and p.progress.fee_eur == pytest.approx(0.3 * 1_700)
    assert p.outcome.after_weeks == 13
    # a contract's list of forms replaces the preset's: unlisted forms pay nothing
    sc = parse_scenario({"payment": {"preset": "outcome_only", "outcome": {"forms": {"gig_work": 1}}}})
    assert sc.payment.outcome.forms["gig_work"] == 1 and sc.payment.outcome.forms["permanent_full_time"] == 0
    assert parse_scenario(scenario_to_dict(sc)) == sc


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_validates(name):
    assert parse_scenario({"payment": {"preset": name}}).payment.preset == name


# -- the books --------------------------------------------------------------------------------------


def test_purchaser_payments_equal_provider_revenues_term_by_term():
    m = run(*MANY, "payment.preset=uk_work_programme", "payment.progress.fee_eur=300",
            "payment.outcome.after_weeks=8", "weeks=40")
    acc = m.accounts
    by_term = acc.revenue.sum(axis=0)
    for k, term in enumerate(TERMS):
        assert acc.purchaser[term] > 0, f"no {term} paid: the test would not test it"
        assert acc.purchaser[term] == pytest.approx(by_term[k], rel=1e-12)
    assert acc.client_revenue.sum() == pytest.approx(sum(acc.purchaser.values()), rel=1e-12)
    summary = results_of(m).summary
    assert summary["purchaser_paid_eur"]["total"] == pytest.approx(
        sum(p["revenue_eur"] for p in summary["providers"]), abs=0.01 * len(summary["providers"])
    )
    for p in summary["providers"]:
        assert p["profit_eur"] == pytest.approx(p["revenue_eur"] - p["cost_eur"], abs=0.02)


def test_a_salaried_only_contract_pays_nothing_for_other_forms_of_work():
    salaried = "{permanent_full_time=1.0, permanent_part_time=1.0, temporary_full_time=1.0, temporary_part_time=1.0}"
    m = run(*MANY, "payment.preset=outcome_only", "payment.outcome.fee_eur=1000",
            f"payment.outcome.forms={salaried}")
    placed = results_of(m).summary["placements_by_form"]
    other = placed["entrepreneurship"] + placed["gig_work"] + placed["light_entrepreneurship"]
    assert other > 0, "no non-salaried starts: the test would not test it"
    counted = sum(placed[f] for f in ("permanent_full_time", "permanent_part_time",
                                      "temporary_full_time", "temporary_part_time"))
    assert m.accounts.purchaser["outcome"] == pytest.approx(1000 * counted)


# -- effort follows the money ---------------------------------------------------------------------


def quintile_gap(m: PilotModel) -> tuple[float, float]:
    """Top minus bottom fifth's effort per client-week, and its standard error."""
    s = m.seekers
    clients = np.flatnonzero(s.client_weeks > 0)
    emp = s.assigned_employability[clients]
    fifth = np.searchsorted(np.quantile(emp, [0.2, 0.4, 0.6, 0.8]), emp, side="right")
    est, var = [], []
    for k in (4, 0):
        e, w = s.effort_sum[clients][fifth == k], s.client_weeks[clients][fifth == k].astype(float)
        r = e.sum() / w.sum()
        est.append(r)
        var.append(((e - r * w) ** 2).sum() / w.sum() ** 2 * e.size / (e.size - 1))
    reported = results_of(m).summary["effort_by_employability_quintile"]
    assert reported[4] == pytest.approx(est[0], abs=1e-6) and reported[0] == pytest.approx(est[1], abs=1e-6)
    return est[0] - est[1], math.sqrt(sum(var))


@pytest.fixture(scope="module")
def gaps():
    return {name: quintile_gap(run(*MANY, f"payment.preset={name}", "area.job_seekers=6000", seed=7))
            for name in ("outcome_only", "fixed_fee", "differential")}


def test_outcome_pay_makes_providers_cream_skim_and_park(gaps):
    gap, se = gaps["outcome_only"]
    assert gap > 4 * se


def test_a_fixed_fee_gives_flat_effort(gaps):
    gap, se = gaps["fixed_fee"]
    assert abs(gap) <= 3 * se + 1e-12


def test_differential_fees_narrow_the_gap(gaps):
    (g1, se1), (g2, se2) = gaps["outcome_only"], gaps["differential"]
    assert g1 - g2 > 3 * math.hypot(se1, se2)


# -- viability ------------------------------------------------------------------------------------


def test_break_even_clients():
    assert break_even_clients(30_000, 1_000, 400) == pytest.approx(50)
    assert math.isinf(break_even_clients(30_000, 400, 400))


def profit_and_se(m: PilotModel) -> list[tuple[float, float, int, float]]:
    """Per provider: profit, its standard error from the client-level margins, clients, break-even."""
    s, acc = m.seekers, m.accounts
    out = []
    for p, rec in zip(m.providers, results_of(m).summary["providers"]):
        mine = s.served_by == p.index
        margin = acc.client_revenue[mine] - acc.client_cost[mine]
        out.append((acc.profit()[p.index], math.sqrt(mine.sum()) * margin.std(ddof=1),
                    rec["clients"], rec["break_even_clients"]))
    return out


def test_a_pilot_below_break_even_volume_loses_money():
    small = profit_and_se(run("payment.preset=hybrid", "referral.target_participants=20", seed=3))
    large = profit_and_se(run(*MANY, "payment.preset=hybrid", seed=3))
    for profit, se, clients, even in small:
        assert clients < even and profit + 3 * se < 0
    for profit, se, clients, even in large:
        assert clients > even and profit - 3 * se > 0


def test_providers_beyond_their_loss_tolerance_exit_and_clients_return():
    m = run(*MANY, "payment.preset=outcome_only", "payment.outcome.fee_eur=100",
            "providers.exit_loss_eur=10000", "providers.exit_review_week=10")
    s = m.seekers
    assert not any(p.active for p in m.providers)
    assert all(p.free_places == 0 for p in m.providers)
    assert np.count_nonzero(s.state == State.WITH_PROVIDER) == 0
    assert all(rec["exited"] for rec in results_of(m).summary["providers"])
