"""The page's second answer runs only what is new (design/pilot_cache.py, issue 28): after a first answer,
moving an analysis lever (alpha, the power target) refits the pilots already run and simulates only the
batches the new N* needs, with an answer as right as a fresh one (its interval holds the known N* of the
stub); moving a world lever (the effect) runs a whole new answer. Counted with the cache's own counter of
pilots simulated, on the z stub of tests/test_size.py (known N*), its records carrying their p-values.
The estimator and a shorter horizon re-read the pilots kept: tested on real pilots of tiny worlds, each
re-read pilot against the same pilot run afresh as asked."""

from __future__ import annotations

import math

import pytest
from scipy import optimize, stats

from labsim.design.evidence import Range
from labsim.design.pilot_cache import PilotCache, reanalysed
from labsim.design.size import SearchSettings
from labsim.design.size_job import SizeRequest, run_size

from conftest import small_scenario
from test_size import AZ, BZ, CENTRAL, SIGMA_Z, no_rollout, z_stub


def true_n(alpha: float, power: float, theta: float = 1.0) -> float:
    c = stats.norm.ppf(1 - alpha / 2)

    def pw(n):
        mu = AZ + BZ * theta * math.sqrt(n)
        return stats.norm.sf((c - mu) / SIGMA_Z) + stats.norm.cdf((-c - mu) / SIGMA_Z)
    return optimize.brentq(lambda n: pw(n) - power, 10, 1e7)


def answer(cache, seed, alpha=0.05, power=0.8, sc=None, ranges=(), budget=800):
    s = SearchSettings(seed=seed, alpha=alpha, power=power, type_i_sims=20, budget=budget)
    return run_size(sc or small_scenario(), SizeRequest(s, tuple(ranges)), run=z_stub(seed, alpha=alpha),
                    counterfactuals=no_rollout, cache=cache).answer


def test_a_record_is_reread_at_another_level_from_its_p_value():
    rec = {"p_value": 0.07, "reject": False, "test": "hc2", "z_critical": 1.96}
    again = reanalysed(rec, 0.1)
    assert again["reject"] and again["z_critical"] == pytest.approx(stats.norm.ppf(0.95))
    assert rec["reject"] is False  # the kept record is not changed


@pytest.mark.parametrize("lever", ["alpha", "power"])
def test_an_analysis_lever_reuses_the_pilots_and_still_holds_the_known_size(lever):
    """Seeds 1-6: the second answer simulates at most 60 % of the pilots a fresh answer of the same
    question simulates (summed over seeds; measured: 22 % for alpha 0.05 -> 0.1, 56 % for power 0.8 -> 0.9,
    whose N* moves 40 % away from the pilots run, where the new batches, type-I check and accounts go),
    and its interval holds the true N* at least 5 times in 6 (at 95 % coverage, 2 misses or more in 6 has
    P = 3 %)."""
    change = {"alpha": {"alpha": 0.1}, "power": {"power": 0.9}}[lever]
    truth = true_n(change.get("alpha", 0.05), change.get("power", 0.8))
    warm_ran, fresh_ran, held = 0, 0, 0
    for seed in range(1, 7):
        cache = PilotCache()
        answer(cache, seed)
        before = cache.ran
        second = answer(cache, seed, **change)
        warm_ran += cache.ran - before
        fresh = PilotCache()
        answer(fresh, seed, **change)
        fresh_ran += fresh.ran
        m = second.minimum
        held += m is not None and m.low <= truth <= m.high
        assert second.question.alpha == change.get("alpha", 0.05)
    assert warm_ran <= 0.6 * fresh_ran, (warm_ran, fresh_ran)
    assert held >= 5, held


def test_the_same_question_again_runs_nothing_and_gives_the_same_answer():
    cache = PilotCache()
    first = answer(cache, 3, ranges=[Range("providers.effort_effect", 0.45, CENTRAL, 0.75)])
    ran = cache.ran
    again = answer(cache, 3, ranges=[Range("providers.effort_effect", 0.45, CENTRAL, 0.75)])
    assert cache.ran == ran > 0
    assert again.minimum == first.minimum and again.evidence.size_for_assurance == first.evidence.size_for_assurance


def test_a_world_lever_runs_a_whole_new_answer():
    """The effect moves the world: nothing kept applies, so the second answer simulates as many pilots as
    a fresh one."""
    cache = PilotCache()
    answer(cache, 2)
    before = cache.ran
    stronger = small_scenario("providers.effort_effect=0.9")
    answer(cache, 2, sc=stronger)
    fresh = PilotCache()
    answer(fresh, 2, sc=stronger)
    assert cache.ran - before == fresh.ran > 0


def test_the_page_asked_again_with_other_places_planned_runs_only_what_is_new():
    """Real pilots at the page's quick settings (a tiny world): the places planned move only where the
    search starts, so the second answer starts from the first's pilots and simulates fewer than the same
    question asked of an empty cache; the same question a third time simulates
    none (not even the roll-out worlds), and answers the same."""
    from labsim.app.quick_size import quick_settings, search
    from labsim.config.scenario import parse_scenario

    def world(places: int):
        return parse_scenario({"weeks": 30, "area": {"job_seekers": 1500, "offices": 2, "burn_in_weeks": 8},
                               "referral": {"mode": "mandatory", "intake_weeks": 20, "target_participants": places},
                               "providers": {"count": 1, "capacity": 400}, "pilot": {"end_week": 30}})
    settings, cache, seen = quick_settings(workers=1), PilotCache(), []
    first = search(world(60), settings, lambda: seen.append(1), cache)
    ran_first = cache.ran
    assert ran_first == len(seen) + first.answer.rollout.sims > 0
    second = search(world(80), settings, lambda: seen.append(1), cache)
    ran_second = cache.ran - ran_first
    fresh = PilotCache()
    search(world(80), settings, lambda: None, fresh)
    assert 0 < ran_second < fresh.ran and second.answer.question.planned == 80
    third = search(world(80), settings, lambda: None, cache)
    assert cache.ran == ran_first + ran_second
    assert third.answer.minimum == second.answer.minimum and third.answer.rollout == second.answer.rollout


def test_text_alone_moves_no_key_and_a_number_does():
    """The page rewrites the scenario's description whenever a lever moves: a scenario that differs only in
    text (its name, its descriptions, an evidence range's source) reuses every pilot, the joint search's
    included; one that differs in a number (here one the stub does not even read) runs a new answer."""
    ranges = [Range("providers.effort_effect", 0.45, CENTRAL, 0.75, source="a study")]
    cache = PilotCache()
    # budget room enough to end within the precision: a first answer that spent its budget refines on when
    # asked again (a warm search's budget counts its new pilots), which is not what this test is about
    first = answer(cache, 4, ranges=ranges, budget=2000)
    assert first.status == "found"
    ran, searches = cache.ran, set(cache.searches)
    reworded = small_scenario("description='Muokattu sivulla: paikkoja 600 -> 1 100'", "name=renamed",
                              "description_fi='toinen kuvaus'", "description_sv='en annan beskrivning'")
    again = answer(cache, 4, sc=reworded, ranges=[Range("providers.effort_effect", 0.45, CENTRAL, 0.75,
                                                        source="another source, reworded")], budget=2000)
    assert cache.ran == ran > 0 and set(cache.searches) == searches  # the same searches, started from their pilots
    assert again.minimum == first.minimum and again.evidence.size_for_assurance == first.evidence.size_for_assurance
    answer(cache, 4, sc=small_scenario("market.vacancy_expiry=0.3"), ranges=ranges)
    assert cache.ran > ran


def _tiny(places: int = 100, *more: tuple[str, object]):
    from labsim.config.scenario import parse_scenario

    sc = parse_scenario({"weeks": 30, "area": {"job_seekers": 1500, "offices": 2, "burn_in_weeks": 8},
                         "referral": {"mode": "mandatory", "intake_weeks": 20, "target_participants": places},
                         "providers": {"count": 1, "capacity": 400}, "pilot": {"end_week": 30}})
    return sc.with_values(dict(more)) if more else sc


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(x == y or (x != x and y != y) for x, y in zip(a.values(), b.values()))


def test_switching_the_estimator_rereads_the_pilots_run_as_running_them_again_would():
    """Real pilots at the page's quick settings (a tiny world, individual design): after an answer with the
    difference in means, the adjusted estimator re-reads the pilots kept (their readings, computed with
    them) instead of simulating them again, so the second answer simulates fewer pilots than a fresh one;
    every pilot it re-read is field for field the record a fresh adjusted answer simulated under the same
    key. Without a cache (`labsim size`) no pilot computes a second reading."""
    from labsim.app.quick_size import quick_settings, search
    from labsim.design.size_job import SizeRequest, run_size

    settings, cache = quick_settings(workers=1), PilotCache()
    search(_tiny(), settings, lambda: None, cache)
    ran_first = cache.ran
    adjusted = _tiny(100, ("design.estimator", "adjusted"))
    search(adjusted, settings, lambda: None, cache)
    fresh = PilotCache()
    search(adjusted, settings, lambda: None, fresh)
    assert cache.ran - ran_first < fresh.ran, (cache.ran - ran_first, fresh.ran)
    shared = [k for k in fresh.pilots if k in cache.pilots and cache.estimators[k] == "difference"]
    assert len(shared) >= settings.batch  # at least the reference batch, which both searches start from
    moved = 0
    for k in shared:
        again, simulated = cache.read(k, "adjusted", 26), fresh.read(k, "adjusted", 26)
        assert _same(again, simulated), k
        moved += again["estimate"] != cache.read(k, "difference", 26)["estimate"]
    assert moved >= len(shared) // 2  # the estimators read the same pilots differently
    plain = run_size(_tiny(), SizeRequest(settings, ()))
    assert "readings" not in plain.rows and "_pilot" not in plain.rows and "horizon_readings" not in plain.rows


# -- the horizon ---------------------------------------------------------------------------------------------


def _long(horizon: int = 26, *more: tuple[str, object]):
    """A tiny world whose pilots stop before its last week at every horizon up to 26 (an intake of 10 weeks,
    60 weeks in all), with an effect a pilot of a few hundred places detects: a size answer in seconds."""
    from labsim.config.scenario import parse_scenario

    sc = parse_scenario({"weeks": 60, "area": {"job_seekers": 3000, "offices": 4, "burn_in_weeks": 8},
                         "referral": {"mode": "mandatory", "intake_weeks": 10, "target_participants": 300,
                                      "start_week": 4},
                         "providers": {"count": 1, "capacity": 1000, "effort_effect": 4.0},
                         "pilot": {"end_week": 60}, "design": {"primary_horizon_weeks": horizon}}, "long")
    return sc.with_values(dict(more)) if more else sc


def _differ(a: dict, b: dict) -> set[str]:
    """The fields two records hold differently (NaN equal to NaN)."""
    return {k for k in a.keys() | b.keys()
            if not (k in a and k in b and (a[k] == b[k] or (a[k] != a[k] and b[k] != b[k])))}


@pytest.mark.parametrize("design", ["individual", "office", "area", "saturation"])
def test_a_pilot_read_at_a_shorter_horizon_is_the_pilot_run_to_it(design):
    """A pilot run to 26 weeks after its intake and read at 13 is, field for field, the same pilot (same key,
    same seeds) run to 13, under either estimator, whichever it ran under: all but `weeks_run`, the weeks it
    ran, which is how long it ran (23 against 36 here); an accounts pilot runs the scenario's full length
    either way, so nothing differs. The roll-out worlds' cohorts read at 13 are the run to 13's, though the
    longer run has seen later cohorts 13 weeks on (those it must not count). And the reading is not the
    26-week one (the estimates move), a pilot kept at 13 cannot be read at 26, nor one without its reading at
    13 at 13."""
    import numpy as np

    from labsim.design.pilot_cache import world_at
    from labsim.design.replicate import ALL_FIGURES, HORIZON_READINGS, SEARCH_FIGURES, PilotJob, simulate
    from labsim.design.worlds import no_pilot, roll_out
    from labsim.results.pilot import ESTIMATORS
    from labsim.sweep.runner import Task

    def run(sc, kind, horizon, figures, horizons=(), **more):
        job = PilotJob(sc, kind, horizon, 0.05, 300, figures, world=1, readings=ESTIMATORS, horizons=horizons, **more)
        return simulate(Task((3,), job), np.random.SeedSequence(5, spawn_key=(3,)))

    sc = _long(26, ("design.randomisation", design))
    for figures, differing in ((SEARCH_FIGURES, {"weeks_run"}), (ALL_FIGURES, set())):
        long = PilotCache()
        long.add("k", run(sc, "pilot", 26, figures, (13,)), "difference", 26)
        for estimator in ESTIMATORS:
            short = PilotCache()
            as_named = sc.with_values({"design.estimator": estimator})
            short.add("k", run(as_named, "pilot", 13, figures), estimator, 13)
            again, simulated = long.read("k", estimator, 13), short.read("k", estimator, 13)
            assert _differ(again, simulated) == differing, (figures, estimator)
            assert again["estimate"] != long.read("k", estimator, 26)["estimate"]
            assert short.read("k", estimator, 26) is None  # a run to 13 cannot say week 26
    blind = PilotCache()
    blind.add("k", {**run(sc, "pilot", 26, SEARCH_FIGURES, (13,)), HORIZON_READINGS: {}}, "difference", 26)
    assert blind.read("k", "difference", 13) is None and blind.read("k", "difference", 26) is not None
    for kind, world in (("none", no_pilot(sc)), ("rollout", roll_out(sc))):
        longer = run(world, kind, 26, SEARCH_FIGURES, (13,), last_cohort=12)
        shorter = run(world, kind, 13, SEARCH_FIGURES, last_cohort=12)
        assert _differ(world_at(longer, 26, 13), world_at(shorter, 13, 13)) == {"weeks_run"}, kind
        assert longer["weeks_run"] - 13 > shorter["weeks_run"] - 13 >= 12  # it saw later cohorts 13 weeks on


def _rerun_at(cache: PilotCache, horizon: int, scenario, settings) -> PilotCache:
    """A cache holding the pilots `cache` keeps (the same keys, so the same seeds), each run afresh to
    `horizon`, and its searches' rows: what a size job at `horizon` starts from had it run those pilots
    itself. Its roll-out worlds are left to run afresh."""
    from dataclasses import replace

    from labsim.design.pilot_cache import scenario_hash
    from labsim.design.size import pool_simulator
    from labsim.design.worlds import at_size, zero_help
    from labsim.results.pilot import ESTIMATORS

    sizes = {k[2] for k in cache.pilots}
    variants = {scenario_hash(v): v for size in sizes
                for v in (at_size(scenario, settings.by, size), zero_help(at_size(scenario, settings.by, size)))}
    out = PilotCache(searches={k: [dict(r) for r in rows] for k, rows in cache.searches.items()})
    asked: dict[tuple, list[tuple]] = {}
    for key in cache.pilots:
        asked.setdefault((key[2], key[3]), []).append(key)
    with pool_simulator(replace(settings, horizon=horizon), readings=ESTIMATORS) as run:
        for (size, figures), keys in asked.items():
            rows = run([(k[1], variants[k[0]]) for k in keys], size, "again", figures)
            for k, row in zip(sorted(keys, key=lambda k: k[1]), rows):
                out.add(k, row, scenario.design.estimator, horizon)
    return out


@pytest.mark.parametrize("horizon", [13, 52])
def test_moving_the_horizon_reruns_no_pilot_kept_and_answers_as_those_pilots_run_to_it(horizon):
    """Real pilots at the page's quick settings: the page's pilots run to the longest horizon (52 weeks), so
    after an answer at 26 weeks the answer at 13 or 52 weeks simulates no pilot already kept (each pilot it
    simulates is one the first answer did not run, and no roll-out world runs again), and it is exactly the
    answer of the size job at that horizon from the same pilots run afresh to it (same keys, same seeds;
    their roll-out worlds run afresh too): the same N*, interval, power curve, evidence, roll-out, type-I
    check and accounts, the same pilots simulated for it, and the same rows but for `weeks_run`."""
    import json

    import pandas as pd

    from labsim.app.quick_size import quick_settings, search

    def shown(run) -> str:
        data = run.answer.to_json()
        data.pop("seconds", None)
        return json.dumps(data, sort_keys=True, default=str)

    settings, cache = quick_settings(workers=1), PilotCache()
    first = search(_long(26), settings, lambda: None, cache)
    assert first.answer.minimum is not None
    kept, ran, worlds = set(cache.pilots), cache.ran, len(cache.rollouts)
    fresh = _rerun_at(cache, horizon, _long(horizon), settings)
    before = set(fresh.pilots)
    again = search(_long(horizon), settings, lambda: None, cache)
    new = set(cache.pilots) - kept
    assert cache.ran - ran == len(new) and len(cache.rollouts) == worlds  # no kept pilot or world ran again
    answer = search(_long(horizon), settings, lambda: None, fresh)
    assert set(fresh.pilots) - before == new
    assert shown(again) == shown(answer)
    assert again.answer.minimum != first.answer.minimum  # the horizon moved the answer
    pilots = ["replication", "size"]  # the search at the new horizon starts from every pilot of the one at 26
    assert len(first.rows[pilots].merge(again.rows[pilots])) == len(first.rows)
    pd.testing.assert_frame_equal(again.rows.drop(columns="weeks_run"), answer.rows.drop(columns="weeks_run"))
    longer = again.rows["weeks_run"] > answer.rows["weeks_run"]
    assert longer.any() if horizon < 52 else not longer.any()  # the kept pilots ran to 52 weeks


def test_a_horizon_beyond_the_pilots_kept_runs_them_again():
    """A pilot stopped 26 weeks after its intake cannot say week 52: with a cache whose pilots run only to the
    horizon asked (`longest` 26), the answer at 52 weeks after one at 26 simulates as many pilots (roll-out
    worlds included) as a fresh answer at 52, and gives its answer."""
    from labsim.app.quick_size import quick_settings, search

    settings, cache = quick_settings(workers=1), PilotCache(longest=26)
    search(_long(26), settings, lambda: None, cache)
    ran = cache.ran
    again = search(_long(52), settings, lambda: None, cache)
    fresh = PilotCache()
    answer = search(_long(52), settings, lambda: None, fresh)
    assert cache.ran - ran == fresh.ran > 0
    assert again.answer.minimum == answer.answer.minimum and again.answer.power_curve == answer.answer.power_curve
