"""The pilot world: reproducibility, weekly invariants, steady stocks, referral and history."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from labsim import PilotModel
from labsim.world.agents import Employer, JobSeeker, Provider, TEOffice
from labsim.world.history import History, outcomes_after
from labsim.world.market import Matching
from labsim.config.scenario import Market
from labsim.config.states import N_STATES, STATE_NAMES, State, is_employed
from labsim.results.summary import results_of

from conftest import small_scenario


def run(scenario, seed, weeks=None):
    model = PilotModel(scenario, rng=seed)
    model.run_for(weeks if weeks is not None else scenario.weeks)
    return model


def test_model_is_a_mesa_model_with_all_agent_kinds():
    sc = small_scenario()
    model = PilotModel(sc, rng=3)
    assert len(model.agents_by_type[JobSeeker]) == sc.area.job_seekers
    assert len(model.agents_by_type[Provider]) == sc.providers.count
    assert len(model.agents_by_type[TEOffice]) == sc.area.offices
    assert len(model.agents_by_type[Employer]) == sum(s.employers for s in sc.market.sectors)
    seeker = model.agents_by_type[JobSeeker][17]
    assert seeker.state == State(int(model.seekers.state[seeker.index]))
    assert seeker.sector in {s.name for s in sc.market.sectors}
    offices = list(model.agents_by_type[TEOffice])
    searching = np.count_nonzero(model.seekers.state <= State.ACTIVATION)
    assert sum(o.caseload for o in offices) == searching


def test_same_seed_same_numbers_and_different_seeds_differ():
    sc = small_scenario()
    a, b, c = (results_of(run(sc, seed)) for seed in (11, 11, 12))
    pd.testing.assert_frame_equal(a.weekly, b.weekly)
    pd.testing.assert_frame_equal(a.individuals, b.individuals)
    assert a.summary == b.summary
    assert not a.weekly.equals(c.weekly)


def test_invariants_hold_every_week():
    """People are conserved, stocks never negative, each person in exactly one consistent state."""
    sc = small_scenario("referral.mode=mandatory")
    model = PilotModel(sc, rng=5)
    s = model.seekers
    previous = s.state.copy()
    for week in range(1, sc.weeks + 1):
        model.run_for(1)
        stock = np.bincount(s.state, minlength=N_STATES)
        assert s.state.min() >= 0 and s.state.max() < N_STATES
        assert stock.sum() == s.n and (stock >= 0).all()
        # a provider exactly for those with a provider; an employer only for those in paid work
        assert np.array_equal(s.provider >= 0, s.state == State.WITH_PROVIDER)
        assert not (s.employer >= 0)[~is_employed(s.state)].any()
        # counselling effort only for a provider's clients (the hiring's effective search applies the
        # help's factor to them alone: everyone else's is exactly 1)
        assert not s.effort[s.state != State.WITH_PROVIDER].any()
        # flows from the history log (independent of the model's own counters) match the stocks
        person, logged_week, new_state = model.history.log()
        this = logged_week == week
        inflow = np.bincount(new_state[this], minlength=N_STATES)
        outflow = np.bincount(previous[person[this]], minlength=N_STATES)
        change = stock - np.bincount(previous, minlength=N_STATES)
        assert np.array_equal(change, inflow - outflow)
        row = model.counts
        for k, name in enumerate(STATE_NAMES):
            assert row[f"stock_{name}"] == stock[k]
            assert row[f"inflow_{name}"] - row[f"outflow_{name}"] == change[k]
        previous = s.state.copy()


def test_history_replays_every_week_of_anyone():
    sc = small_scenario()
    model = PilotModel(sc, rng=8)
    snapshots = [model.seekers.state.copy()]
    for _ in range(30):
        model.run_for(1)
        snapshots.append(model.seekers.state.copy())
    everyone = np.arange(model.seekers.n)
    timeline = model.history.timeline(everyone)
    assert np.array_equal(timeline, np.stack(snapshots, axis=1))
    seeker = model.agents_by_type[JobSeeker][int(np.argmax((timeline != timeline[:, :1]).sum(1)))]
    history = seeker.spell_history()
    assert history[0][0] == 0 and len(history) > 1
    assert history[-1][1] == seeker.state.name.lower()


def test_outcomes_after_a_hand_made_timeline():
    U, P, T = State.UNEMPLOYED, State.PERMANENT_FULL_TIME, State.TEMPORARY_PART_TIME
    tl = np.full((2, 60), U, np.int8)
    tl[0, 5:20] = P  # first job 4 weeks after assignment at week 1, 15 weeks in work
    tl[0, 30:] = T
    out = outcomes_after(tl, np.array([1, 10]), horizons=(13, 26, 52), window=40)
    assert out["employed_13w"].tolist() == [1.0, 0.0]
    assert out["employed_26w"].tolist() == [0.0, 0.0]
    assert out["employed_52w"][0] == 1.0 and np.isnan(out["employed_52w"][1])  # week 62 not run
    assert out["weeks_to_first_job"][0] == 4 and np.isnan(out["weeks_to_first_job"][1])
    assert out["weeks_employed_40w"].tolist() == [15 + 12, 0]  # weeks 5-19 and 30-41
    late = outcomes_after(tl[:1], np.array([30]), horizons=(13,), window=40)
    assert np.isnan(late["weeks_employed_40w"][0])  # the run ends before week 70


def test_history_log_does_not_alias_its_input():
    h = History()
    states = np.zeros(3, np.int8)
    h.record(0, np.arange(3), states)
    states[:] = 5
    h.record(1, np.array([1]), np.array([5], np.int8))
    assert h.timeline(np.arange(3)).tolist() == [[0, 0], [0, 5], [0, 0]]


def test_timeline_rows_follow_the_persons_asked_in_their_order():
    """A timeline row per person asked, in the order asked: a person asked twice fills their first row
    only (the services timeline asks once per departure), someone never logged stays -1, and each row is
    the state carried forward from that person's last change, as a plain per-week replay gives."""
    rng = np.random.default_rng(3)
    h, n, weeks = History(), 40, 9
    h.record(0, np.arange(n - 5), rng.integers(0, 6, n - 5))  # the last five never logged
    for w in range(1, weeks):
        who = rng.choice(n - 5, 7, replace=False)
        h.record(w, who, rng.integers(0, 6, 7))
    person, week, state = h.log()
    asked = np.array([7, 3, 7, 38, 0, 12, 3])
    got = h.timeline(asked)
    first = {}
    for row, p in enumerate(asked):
        first.setdefault(int(p), row)
    for row, p in enumerate(asked):
        want = np.full(weeks, -1)
        if first[int(p)] == row:
            for w in range(weeks):
                mine = (person == p) & (week <= w)
                if mine.any():
                    want[w] = state[np.flatnonzero(mine)[-1]]
        assert got[row].tolist() == want.tolist(), (row, p)


def test_stock_is_steady_when_nothing_changes():
    """Without a pilot the unemployed stock has no drift: the mean change between the two halves
    of a two-year run is zero within its Monte Carlo error across replications, and a typical
    replication (the SD across them, about 2.5 % in this 3,000-seeker world) stays within 5 %."""
    sc = small_scenario("referral.start_week=500", "pilot.end_week=600", "weeks=104")
    drift = []
    for seed in range(12):
        w = results_of(run(sc, seed)).weekly["stock_unemployed"].to_numpy(float)
        drift.append((w[53:].mean() - w[1:53].mean()) / w.mean())
    drift = np.array(drift)
    se = drift.std(ddof=1) / np.sqrt(drift.size)
    assert abs(drift.mean()) < stats.t.ppf(0.999, drift.size - 1) * se
    assert drift.std(ddof=1) < 0.05


def test_mandatory_referral_fills_the_pilot_faster_than_voluntary():
    common = ["referral.target_participants=5000", "providers.capacity=5000", "weeks=12"]
    starts = {}
    for mode in ("voluntary", "mandatory"):
        sc = small_scenario(f"referral.mode={mode}", *common)
        starts[mode] = [run(sc, seed).referral.started for seed in (1, 2, 3)]
    vol, man = np.array(starts["voluntary"]), np.array(starts["mandatory"])
    # counts are roughly Poisson: demand a gap of many standard errors
    assert man.sum() - vol.sum() > 5 * np.sqrt(man.sum() + vol.sum())


def test_voluntary_take_up_selects_the_motivated_and_employable():
    sc = small_scenario("referral.target_participants=9000", "providers.capacity=9000",
                        "area.job_seekers=15000", "referral.offer_share=1.0",
                        "referral.offers_per_counsellor_week=50", "weeks=30")
    ind = results_of(run(sc, 4)).individuals
    offered = ind[ind["offered"]]
    took, declined = offered[offered["accepted"]], offered[~offered["accepted"]]
    assert len(took) > 30 and len(declined) > 30
    for column in ("motivation", "employability_at_assignment"):
        t = stats.ttest_ind(took[column], declined[column], equal_var=False)
        assert t.statistic > 3, column  # one-sided, far beyond chance


def test_pilot_clients_return_to_the_office_at_the_end():
    sc = small_scenario("referral.mode=mandatory", "pilot.end_week=20", "weeks=30")
    model = PilotModel(sc, rng=2)
    model.run_for(20)  # the pilot runs through week 20
    assert np.count_nonzero(model.seekers.state == State.WITH_PROVIDER) > 0
    model.run_for(1)
    assert np.count_nonzero(model.seekers.state == State.WITH_PROVIDER) == 0
    model.run_for(10)
    assert np.count_nonzero(model.seekers.state == State.WITH_PROVIDER) == 0


def test_randomisation_balances_the_arms():
    sc = small_scenario("area.job_seekers=6000", "design.treatment_share=0.5")
    ind = results_of(run(sc, 9)).individuals
    n_pilot = int((ind["arm"] == "pilot").sum())
    assert stats.binomtest(n_pilot, len(ind), 0.5).pvalue > 0.001
    t = stats.ttest_ind(*(g["motivation"] for _, g in ind.groupby("arm", observed=True)))
    assert t.pvalue > 0.001


@pytest.mark.parametrize("congestion", [True, False])
def test_congestion_switch_decides_whether_others_effort_matters(congestion):
    market = Market(congestion=congestion)
    matching = Matching(market, n_sectors=1)
    weight = np.ones(100)
    vacancies = np.array([20.0])
    matching.freeze(np.array([weight.sum()]), vacancies)
    base = matching.job_finding(weight, np.zeros(100, int), vacancies)[0]
    weight[1:] *= 2.0  # everyone else searches twice as hard
    after = matching.job_finding(weight, np.zeros(100, int), vacancies)[0]
    if congestion:
        assert after < 0.9 * base
    else:
        assert after == pytest.approx(base)


def test_results_cover_everyone_eligible_with_outcomes():
    sc = small_scenario()
    model = run(sc, 6)
    res = results_of(model)
    assigned = np.count_nonzero(model.seekers.arm >= 0)
    assert len(res.individuals) == assigned > 100
    for col in ("arm", "took_up", "employed_13w", "employed_26w", "employed_52w",
                "weeks_employed_52w", "weeks_to_first_job"):
        assert col in res.individuals
    er = res.summary.employment_rate["13w"]
    ind = res.individuals
    pilot = ind.loc[ind["arm"] == "pilot", "employed_13w"].dropna()
    assert er.pilot == pytest.approx(pilot.mean(), abs=1e-6)
    assert er.n_pilot == len(pilot)


def test_weekly_employment_curve_agrees_with_individual_outcomes():
    res = results_of(run(small_scenario(), 6))
    curve, ind = res.employment_by_week, res.individuals
    for arm in ("pilot", "control"):
        for h in (13, 26):
            row = curve[(curve["arm"] == arm) & (curve["weeks_since_assignment"] == h)].iloc[0]
            x = ind.loc[ind["arm"] == arm, f"employed_{h}w"].dropna()
            assert row["n"] == len(x) and row["share_employed"] == pytest.approx(x.mean())
    assert curve["share_employed"].between(0, 1).all() and len(curve) == 2 * 53


def test_former_constants_are_read_from_the_scenario():
    """Activation threshold, base search effort and employability shifts come from the scenario."""
    sc = small_scenario("services.activation_after_weeks=40", "services.activation_rate=0.2",
                        "referral.start_week=500", "pilot.end_week=600", "weeks=10")
    model = PilotModel(sc, rng=3)
    s = model.seekers
    durations = []  # of everyone who started activation, over 10 weeks (a week may have none: ~6 a week)
    for _ in range(10):
        before = s.state.copy()
        model.run_for(1)
        started = (s.state == State.ACTIVATION) & (before != State.ACTIVATION)
        durations += s.duration[started].tolist()
    assert len(durations) > 20 and min(durations) >= 40
    model = PilotModel(small_scenario("population.base_search_effort=2.0"), rng=3)
    s = model.seekers
    alone = np.flatnonzero(s.state == State.UNEMPLOYED)
    ratio = model.base_search_effort(alone) / (2.0 + s.motivation[alone])  # 1, or a meeting week's boost
    gain = 1.0 + model.settings.services.meeting_effort_gain
    assert np.all(np.isclose(ratio, 1.0) | np.isclose(ratio, gain)) and np.isclose(ratio, 1.0).any()
    shift = "population.age_employability={under_25=0.0, age_25_54=0.0, over_55=-3.0}"
    s = PilotModel(small_scenario(shift, "population.employability_sd=0", "area.office_spread=0"), rng=3).seekers
    old = s.age_group == 2
    assert np.exp(-3.0) * 0.5 < s.base_employability[old].max() < np.exp(-3.0) * 2.0


def test_offices_differ_by_the_scenarios_office_spread():
    """Each office's seekers share a log-employability shift with SD `area.office_spread` (the SD over 50
    offices is within 3 of its relative SEs, 1/sqrt(2 x 49), of the setting), and the area's mean
    employability is kept: the shift only spreads offices apart."""
    def seekers(spread: float):
        sc = small_scenario("area.offices=50", "area.job_seekers=20000", f"area.office_spread={spread}")
        return PilotModel(sc, rng=5).seekers

    spread, flat = seekers(0.5), seekers(0.0)
    spread_means = pd.Series(np.log(spread.base_employability)).groupby(spread.office).mean()
    flat_means = pd.Series(np.log(flat.base_employability)).groupby(flat.office).mean()
    sd = np.sqrt(max(spread_means.var() - flat_means.var(), 0.0))  # less the sampling noise within offices
    assert abs(sd - 0.5) < 3 * 0.5 / np.sqrt(2 * 49), sd
    assert flat_means.std() < 0.05  # without the spread, offices differ only by sampling (about 0.03)
    # the area's mean is kept: two independent draws of 20,000 differ by sqrt(2) CV / sqrt(n) (1 SE)
    emp = flat.base_employability
    tolerance = 3 * np.sqrt(2) * emp.std() / emp.mean() / np.sqrt(emp.size)
    assert spread.base_employability.mean() == pytest.approx(emp.mean(), rel=tolerance)


def test_mandatory_referral_randomises_only_as_many_as_the_places_need():
    """A target below the eligible stock: the offices randomise a sample just large enough to fill the
    places (target / (1 - no_show) in the pilot arm), not the whole stock, so take-up in the pilot arm
    stays 1 - no_show instead of being diluted by people who never get a place."""
    sc = small_scenario("referral.mode=mandatory", "referral.target_participants=60", "providers.capacity=400",
                        "area.job_seekers=6000")
    fresh = PilotModel(sc, rng=2)  # the same world at week 0, before any intake
    stock = fresh.referral.eligible_index(fresh.seekers).size
    show = 1 - sc.referral.no_show
    cap = math.ceil(60 / show / sc.design.treatment_share)
    assert stock > 2 * cap
    m = PilotModel(sc, rng=2)
    m.run_for(sc.weeks)
    res = results_of(m)
    ind = res.individuals
    assert res.summary.participants.reached == 60
    assert (ind["assigned_week"] == sc.referral.start_week).sum() == cap  # a sample of the stock
    pilot = ind.loc[ind["arm"] == "pilot"]
    n = len(pilot)
    assert abs(pilot["took_up"].mean() - show) < 3 * math.sqrt(show * (1 - show) / n), (n, pilot["took_up"].mean())


def test_weekly_series_holds_what_mesas_own_collector_would():
    """The DataCollector without deep copies records the same weeks as mesa's own, reporter for reporter."""
    import mesa

    m = PilotModel(small_scenario("weeks=6"), rng=2)
    plain = mesa.DataCollector(model_reporters=dict(m.datacollector.model_reporters))
    plain.collect(m)
    for _ in range(5):
        m.run_for(1)
        plain.collect(m)
    ours = m.datacollector.get_model_vars_dataframe()
    assert len(ours) == 6 and list(ours.columns) == list(m.counts)
    pd.testing.assert_frame_equal(ours, plain.get_model_vars_dataframe())


@pytest.mark.parametrize("overrides", [["providers.network_share=0.3"], ["referral.mode=mandatory"]])
def test_the_weeks_search_weight_is_effort_times_employability(overrides):
    """The hiring's effective search (spell lengths and states gathered once, employability worked out
    for the searchers only) is the same floats as the search effort times everyone's employability."""
    from labsim.world.population import Employability

    sc = small_scenario(*overrides)
    model = PilotModel(sc, rng=11)
    for _ in range(12):
        model.run_for(3)
        s, pop = model.seekers, sc.population
        model._this_week = Employability(s, pop.employability_decay_per_year, pop.employability_floor)
        searching = (s.state <= State.ACTIVATION).nonzero()[0]
        everyone = model.employability()
        assert np.array_equal(model._this_week[searching], everyone[searching])
        assert np.array_equal(model._this_week[s.state == State.UNEMPLOYED], everyone[s.state == State.UNEMPLOYED])
        weight = model._search_weight(searching, s.duration[searching], s.state[searching])
        assert np.array_equal(weight, model.search_effort(searching) * everyone[searching])
    assert overrides[0] != "referral.mode=mandatory" or s.sanctioned.any()  # the sanction's factor was met


def test_separations_look_at_those_in_work_since_the_week_began():
    """Separations take those in work at the week's start as those whose job was held all week: nothing
    before them in the week moves anyone out of work (checked against the two masks, every week)."""
    sc = small_scenario("referral.mode=mandatory", "providers.network_share=0.3")
    model = PilotModel(sc, rng=4)
    separate = model._separate
    weeks = []

    def checked():
        s = model.seekers
        held = is_employed(s.state) & (s.state == model._prev_state)
        assert np.array_equal(held, is_employed(model._prev_state))
        weeks.append(model.week)
        separate()

    model._separate = checked
    model.run_for(sc.weeks)
    assert len(weeks) == sc.weeks


@pytest.mark.parametrize("overrides", [["referral.mode=mandatory", "providers.network_share=0.3"], []])
def test_the_register_is_those_looking_for_work(overrides):
    """The week's passes over those looking for work read the register (made as the last week ended,
    kept up to date as the week moves them): at every step that reads it, it holds exactly those in
    states 0-2 at the week's start, in increasing order, with their states now and their spell lengths
    (the sanctioned no-shows who left it since are still listed, in the state they left for)."""
    sc = small_scenario(*overrides)
    model = PilotModel(sc, rng=5)
    s = model.seekers
    seen = []

    def checked(name):
        inner = getattr(model, name)

        def run(*args):
            r = model.register
            assert np.array_equal(r.index, (model._prev_state <= State.ACTIVATION).nonzero()[0])
            assert np.array_equal(r.state, s.state[r.index]) and np.array_equal(r.duration, s.duration[r.index])
            assert r.all_searching == bool((s.state[r.index] <= State.ACTIVATION).all())
            assert np.count_nonzero(s.state <= State.ACTIVATION) == np.count_nonzero(r.state <= State.ACTIVATION)
            seen.append(name if r.all_searching else f"{name}, some left")
            return inner(*args)
        setattr(model, name, run)

    for name in ("_end_services", "_routine_services", "_start_with_providers", "_providers_serve", "_hire",
                 "_count"):
        checked(name)
    model.run_for(sc.weeks)
    calls = [name.split(",")[0] for name in seen]
    assert calls.count("_hire") == sc.weeks and calls.count("_count") == sc.weeks
    assert calls.count("_start_with_providers") > 0 and calls.count("_providers_serve") == sc.weeks
    # some no-shows left the register for inactivity in the week they were sanctioned (before hiring)
    assert ("_hire, some left" in seen) == bool(overrides)


def test_a_replication_record_without_services_gives_the_same_estimates():
    """A replication's record leaves out the activation services' timelines (only a run's moments read
    them): its estimates are those of the full record, and the full record does hold leavers."""
    from labsim.results.pilot import pilot_estimates
    from labsim.results.summary import replication_result

    model = PilotModel(small_scenario("referral.mode=mandatory"), rng=4)
    model.run_for(60)
    full, lean = model.record(), model.record(services=False)
    assert full.services_left_week.size > 0 and full.services_timeline.shape[0] == full.services_left_week.size
    assert lean.services_left_week.size == 0 and lean.services_timeline.size == 0
    a, b = (pilot_estimates(replication_result(r), 26, 0.05) for r in (full, lean))
    assert a.keys() == b.keys()
    assert all(a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]) for k in a), [k for k in a if a[k] != b[k]]
