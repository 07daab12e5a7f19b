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
from labsim.config.payment import PRESETS
from labsim.config.scenario import parse_scenario, scenario_to_dict
from labsim.config.states import WORK_FORMS, State
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


def test_payments_recomputed_from_starts_and_placements():
    """What the purchaser paid, recomputed without the accounts: attachment fees from the starts the
    referral counted, outcome fees from the job starts of clients counted by form of work in the weekly
    series, graded by the contract's forms; each provider's revenue from its own placements."""
    forms = "{permanent_full_time=1.0, temporary_full_time=0.5, gig_work=0.25}"
    m = run(*MANY, "payment.preset=hybrid", "payment.attachment_fee_eur=300", "payment.outcome.fee_eur=1000",
            f"payment.outcome.forms={forms}", "weeks=40")
    weekly = results_of(m).weekly
    grade = {"permanent_full_time": 1.0, "temporary_full_time": 0.5, "gig_work": 0.25}
    assert all(weekly[f"placements_{f}"].sum() > 0 for f in grade), "a graded form never placed: untested"
    outcome = sum(1000 * g * weekly[f"placements_{f}"].sum() for f, g in grade.items())
    attachment = 300 * weekly["referrals"].sum()
    paid = m.accounts.purchaser
    assert paid["attachment"] == pytest.approx(attachment) and paid["outcome"] == pytest.approx(outcome)
    assert paid["progress"] == 0 and paid["sustainment"] == 0
    s = m.seekers  # each provider: its own clients' starts and graded placements (one job each at most)
    fee = np.array([1000 * grade.get(f, 0.0) for f in WORK_FORMS])
    revenue = m.accounts.revenue.sum(axis=1)
    for p in m.providers:
        mine = np.flatnonzero(s.served_by == p.index)
        placed = mine[s.placed_form[mine] >= 0]
        assert revenue[p.index] == pytest.approx(300 * mine.size + fee[s.placed_form[placed]].sum())


def test_a_salaried_only_contract_pays_nothing_for_other_forms_of_work():
    salaried = "{permanent_full_time=1.0, permanent_part_time=1.0, temporary_full_time=1.0, temporary_part_time=1.0}"
    m = run(*MANY, "payment.preset=outcome_only", "payment.outcome.fee_eur=1000",
            f"payment.outcome.forms={salaried}")
    placed = results_of(m).summary.placements_by_form
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
    reported = results_of(m).summary.effort_by_employability_quintile
    assert reported[4] == pytest.approx(est[0], abs=1e-6) and reported[0] == pytest.approx(est[1], abs=1e-6)
    return est[0] - est[1], math.sqrt(sum(var))


@pytest.fixture(scope="module")
def gaps():
    return {name: quintile_gap(run(*MANY, f"payment.preset={name}", "area.job_seekers=6000", seed=7))
            for name in ("outcome_only", "differential")}


def test_outcome_pay_makes_providers_cream_skim_and_park(gaps):
    gap, se = gaps["outcome_only"]
    assert gap > 4 * se


@pytest.mark.parametrize("norm", [0.5, 0.75])
def test_a_fixed_fee_gives_every_client_week_the_service_norm(norm):
    """No marginal payment for effort: every client-week gets exactly the norm, whoever the client."""
    m = run(*MANY, "payment.preset=fixed_fee", f"payment.service_norm={norm}", "weeks=30")
    s = m.seekers
    clients = np.flatnonzero(s.client_weeks > 0)
    assert clients.size > 100
    np.testing.assert_allclose(s.effort_sum[clients], norm * s.client_weeks[clients])


def test_differential_fees_narrow_the_gap(gaps):
    (g1, se1), (g2, se2) = gaps["outcome_only"], gaps["differential"]
    assert g1 - g2 > 3 * math.hypot(se1, se2)


# -- viability ------------------------------------------------------------------------------------


def provider_books(m: PilotModel) -> list[tuple[float, float]]:
    """Per provider: profit and its standard error from the client-level margins (revenue - cost)."""
    s, acc = m.seekers, m.accounts
    out = []
    for p in m.providers:
        mine = s.served_by == p.index
        margin = acc.client_revenue[mine] - acc.client_cost[mine]
        out.append((acc.profit()[p.index], math.sqrt(mine.sum()) * margin.std(ddof=1)))
    return out


def test_break_even_volume_predicts_profit_and_loss_at_other_volumes():
    """The break-even caseload read from one pilot predicts the sign of profit in pilots of a quarter of
    it and of four times it (pooled over three seeds, beyond 3 standard errors of the client-level
    margins). Half and twice were too close to tell apart from the noise of a 60-week pilot whose later
    clients have not yet earned their outcome fees."""
    hybrid = [*MANY, "payment.preset=hybrid", "providers.count=1", "providers.capacity=2000", "weeks=60",
              "pilot.end_week=60"]
    probe = results_of(run(*hybrid, "referral.target_participants=600", seed=3)).summary.providers[0]
    even = probe.break_even_clients
    assert even is not None and 50 < even < 1000, even
    for factor in (0.25, 4.0):
        books = [provider_books(run(*hybrid, f"referral.target_participants={round(factor * even)}", seed=seed))[0]
                 for seed in (4, 5, 6)]
        profit = float(np.mean([p for p, _ in books]))
        se = math.sqrt(sum(e**2 for _, e in books)) / len(books)
        assert (profit + 3 * se < 0) if factor < 1 else (profit - 3 * se > 0), (factor, even, profit, se)


SLACK, TIGHT = (f'market.sectors=[{{name="all", seeker_share=1.0, vacancies_per_100_seekers={v}}}]'
                for v in (0.5, 20.0))
EXIT_RULE = ["providers.exit_loss_eur=40000", "providers.exit_review_week=26"]


def test_outcome_only_pay_in_a_slack_market_drives_providers_out():
    """Few vacancies, paid only on jobs: running costs outrun the fees; without an exit rule the loss
    passes the tolerance by more than 3 SE, and with it every provider leaves."""
    bound = run(*MANY, "payment.preset=outcome_only", SLACK, seed=5)
    for profit, se in provider_books(bound):
        assert profit + 3 * se < -40_000, (profit, se)
    m = run(*MANY, "payment.preset=outcome_only", SLACK, *EXIT_RULE, seed=5)
    assert not any(p.active for p in m.providers)


@pytest.mark.parametrize("setting", [["payment.preset=outcome_only", TIGHT], ["payment.preset=fixed_fee", SLACK]],
                         ids=["outcome_only-tight", "fixed_fee-slack"])
def test_providers_stay_in_a_tight_market_or_on_a_fixed_fee(setting):
    m = run(*MANY, *setting, *EXIT_RULE, seed=5)
    assert all(p.active for p in m.providers)
    for profit, se in provider_books(m):
        assert profit - 3 * se > -40_000, (profit, se)


def test_providers_beyond_their_loss_tolerance_exit_and_clients_return():
    m = run(*MANY, "payment.preset=outcome_only", "payment.outcome.fee_eur=100",
            "providers.exit_loss_eur=10000", "providers.exit_review_week=10")
    s = m.seekers
    assert not any(p.active for p in m.providers)
    assert all(p.free_places == 0 for p in m.providers)
    assert np.count_nonzero(s.state == State.WITH_PROVIDER) == 0
    assert all(rec.exited for rec in results_of(m).summary.providers)


def test_providers_choose_from_the_scenarios_effort_grid():
    m = run(*MANY, "payment.preset=outcome_only", "providers.effort_levels=[0.0, 0.6]", "weeks=20")
    s = m.seekers
    effort = s.effort[s.state == State.WITH_PROVIDER]
    assert set(np.unique(effort)) == {0.0, 0.6}


def test_the_effort_chosen_is_the_argmax_of_the_gain_as_first_written():
    """Level by level, in the clients' direction, the gain and its best level are the same floats as the
    client-by-level table and np.argmax (ties to the first level, clients with nothing to gain)."""
    from labsim.world.provider import choose_effort, weekly_gain

    rng = np.random.default_rng(5)
    for _ in range(100):
        n = int(rng.integers(0, 500))
        levels = np.unique(np.round(rng.random(int(rng.integers(1, 7))), 2))
        rate, search = rng.uniform(0.0, 0.2, n), rng.lognormal(0.0, 1.0, n)
        job_value, progress_value = rng.choice([0.0, 900.0, 3000.0], n), rng.choice([0.0, 300.0], n)
        k, q, c = rng.uniform(0.0, 2.0), rng.uniform(0.0, 0.1), rng.choice([0.0, 40.0])
        p = -np.expm1(-(rate * search)[:, None] * (1.0 + k * levels)[None, :])
        table = p * job_value[:, None] + q * levels[None, :] * progress_value[:, None] - c * levels[None, :]
        chosen = choose_effort(rate, search, job_value, progress_value, levels=levels, effort_effect=k,
                               progress_rate=q, effort_cost=c)
        assert np.array_equal(chosen, levels[np.argmax(table, axis=1)])
        assert np.array_equal(weekly_gain(rate, search, job_value, progress_value, levels, k, q, c).T, table)
