"""Fast answers without other answers (issue 18): a pilot started from a kept copy of its burned-in world
is bit-identical to one that burns in its own, and a replication that stops once its figures are complete
reports exactly what the full-length run reports for them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from labsim.design import world_cache
from labsim.design.replicate import FIELDS_OF, PilotJob, simulate
from labsim.design.worlds import at_size, no_pilot, roll_out, zero_help
from labsim.results.summary import results_of
from labsim.sweep.runner import Task, seed_for
from labsim.world.burn_in import world_key
from labsim.world.model import PilotModel

from conftest import small_scenario

MANDATORY = ("referral.mode=mandatory", "referral.target_participants=150", "referral.intake_weeks=20")


def _run(model: PilotModel, weeks: int):
    model.run_for(weeks)
    return results_of(model)


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.weekly, b.weekly)
    pd.testing.assert_frame_equal(a.individuals, b.individuals)
    assert a.summary == b.summary


@pytest.mark.parametrize("world", [None, 11])
def test_a_pilot_from_a_kept_world_is_bit_identical_to_a_fresh_burn_in(world):
    sc = small_scenario(*MANDATORY)
    variants = [at_size(sc, "participants", 60), no_pilot(sc), roll_out(sc), zero_help(sc),
                at_size(sc, "intake-weeks", 8)]
    seed = seed_for(3, (2,))
    kept = PilotModel(sc, rng=seed, world=world, keep_world=True).world_at_start
    for variant in variants:
        fresh = _run(PilotModel(variant, rng=seed, world=world), 40)
        forked = _run(PilotModel(variant, rng=seed, world=world, burned_in=kept), 40)
        _same(fresh, forked)
    # the kept copy is not changed by the pilots started from it
    again = _run(PilotModel(sc, rng=seed, world=world, burned_in=kept), 40)
    _same(_run(PilotModel(sc, rng=seed, world=world), 40), again)


def test_a_kept_world_refuses_another_world_or_seeding():
    sc = small_scenario(*MANDATORY)
    kept = PilotModel(sc, rng=1, keep_world=True).world_at_start
    other = small_scenario(*MANDATORY, "market.congestion=false")
    assert world_key(other) != world_key(sc)
    with pytest.raises(ValueError, match="burned-in world"):
        PilotModel(other, rng=1, burned_in=kept)
    with pytest.raises(ValueError, match="burned-in world"):
        PilotModel(sc, rng=1, world=5, burned_in=kept)


def test_the_worker_cache_burns_each_world_in_once_and_changes_no_figure():
    sc = small_scenario(*MANDATORY)
    jobs = [PilotJob(at_size(sc, "participants", n), size=n) for n in (60, 120)]
    world_cache.clear()
    cached = [simulate(Task((rep,), job), seed_for(4, (rep,))) for job in jobs for rep in range(3)]
    assert world_cache.stats == {"hits": 3, "misses": 3}
    world_cache.clear()
    fresh = []
    for job in jobs:
        for rep in range(3):
            world_cache.clear()
            fresh.append(simulate(Task((rep,), job), seed_for(4, (rep,))))
    assert world_cache.stats["hits"] == 0
    for a, b in zip(cached, fresh):
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])), k


def _equal_records(early: dict, full: dict, skip: set[str]) -> None:
    for k in full:
        if k in skip:
            continue
        a, b = early[k], full[k]
        same = a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))
        assert same, (k, a, b)


@pytest.mark.parametrize("figures", [("employment",), ("employment", "weeks_employed")])
def test_stopping_early_leaves_every_figure_asked_unchanged(figures):
    sc = small_scenario(*MANDATORY, "weeks=90")
    task, seed = Task((0,), None), seed_for(8, (0,))
    full = simulate(Task(task.key, PilotJob(sc, horizon=13)), seed)
    early = simulate(Task(task.key, PilotJob(sc, horizon=13, figures=figures)), seed)
    assert full["weeks_run"] == 90
    need = 52 if "weeks_employed" in figures else 13
    assert early["weeks_run"] == full["last_intake_week"] + need < 90  # it did stop early
    skip = {"weeks_run"} | {f for fig, fields in FIELDS_OF.items() if fig not in figures for f in fields}
    _equal_records(early, full, skip)
    assert all(math.isnan(early[f]) for f in skip - {"weeks_run"})  # never a truncated number
    assert np.isfinite(early["estimate"]) and early["n"] > 0


@pytest.mark.parametrize("kind", ["none", "rollout"])
def test_counterfactual_worlds_stopped_early_cover_the_pilots_cohorts(kind):
    sc = small_scenario(*MANDATORY, "weeks=90")
    variant = no_pilot(sc) if kind == "none" else roll_out(sc)
    seed = seed_for(8, (0,))
    full = simulate(Task((0,), PilotJob(variant, kind, horizon=13)), seed)
    early = simulate(Task((0,), PilotJob(variant, kind, horizon=13, figures=("employment",))), seed)
    pilot = simulate(Task((0,), PilotJob(sc, horizon=13, figures=("employment",))), seed)
    assert early["weeks_run"] >= pilot["weeks_run"] and early["weeks_run"] < full["weeks_run"]
    assert early["cohort_employed"] == full["cohort_employed"] and early["cohort_n"] == full["cohort_n"]


def test_tasks_travel_in_chunks_and_every_result_stays_the_same():
    from concurrent.futures import ThreadPoolExecutor

    from labsim.sweep.runner import chunk_size, run_tasks

    def work(task, seed):
        return int(seed.generate_state(1)[0])

    tasks = [Task((i,)) for i in range(10)]
    alone = dict(run_tasks(work, tasks, root_seed=3))
    with ThreadPoolExecutor(2) as pool:
        sent = []
        submit = pool.submit
        pool.submit = lambda *a, **k: sent.append(len(a[2])) or submit(*a, **k)
        chunked = dict(run_tasks(work, tasks, root_seed=3, pool=pool, chunk=4))
        assert sent == [4, 4, 2]
        assert chunk_size(pool, 200) > 1 and chunk_size(pool, None) == 1
    assert chunked == alone


def test_kaplan_meier_agrees_with_statsmodels():
    from statsmodels.duration.survfunc import SurvfuncRight

    from labsim.report.plots import kaplan_meier

    rng = np.random.default_rng(2)
    time = rng.integers(0, 30, 400).astype(float)
    event = (rng.random(400) < 0.6).astype(int)
    event[time == time.max()] = 1  # everyone at risk has the event at the last time: its SE is NaN
    times, surv, se = kaplan_meier(time, event)
    sf = SurvfuncRight(time, event)
    np.testing.assert_array_equal(times, sf.surv_times)
    np.testing.assert_allclose(surv, sf.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(se, sf.surv_prob_se, rtol=1e-12, equal_nan=True)


def test_reading_and_plotting_saved_results_import_neither_statsmodels_nor_scipy():
    import subprocess
    import sys

    code = ("import sys, labsim.report.charts, labsim.report.report, labsim.report.saved; "
            "print(sorted(m for m in ('statsmodels', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_search_stopped_early_finds_the_same_size_as_one_run_to_full_length():
    """Same seeds, small world: the search's pilots stopped `horizon` weeks after their last assignment
    report the same employment figures as pilots run to the scenario's full length, so the search tries
    the same sizes and finds the same N*, interval and type-I rate; here on 2 workers against 1 (the
    answer does not depend on the number of workers either)."""
    from labsim.design.replicate import ALL_FIGURES, SEARCH_FIGURES
    from labsim.design.size import SearchSettings, pool_simulator, search_size

    sc = small_scenario(*MANDATORY, "providers.effort_effect=3.0")

    def settings(workers: int) -> SearchSettings:
        return SearchSettings(batch=8, budget=24, type_i_sims=8, horizon=13, seed=5, workers=workers, max_size=600)

    early = search_size(sc, settings(2))
    with pool_simulator(settings(1)) as run:
        def full_length(pairs, size, label, figures=SEARCH_FIGURES):
            return run(pairs, size, label, ALL_FIGURES)
        full = search_size(sc, settings(1), run=full_length)
    assert early.minimum is not None and early.minimum == full.minimum and early.type_i == full.type_i
    assert early.status == full.status and early.power_curve == full.power_curve
    a, b = (x.rows.loc[x.rows["part"] == "search"].reset_index(drop=True) for x in (early, full))
    assert (a["weeks_run"] < b["weeks_run"]).all() and (b["weeks_run"] == sc.weeks).all()
    skip = ["weeks_run", *(f for fields in FIELDS_OF.values() for f in fields)]
    pd.testing.assert_frame_equal(a.drop(columns=skip), b.drop(columns=skip))
    assert a[skip[1:]].isna().all().all() and b["purchaser_paid"].notna().all()
    # the accounts batch runs to full length in both, with the same records
    pd.testing.assert_frame_equal(*(x.rows.loc[x.rows["part"] == "accounts"].reset_index(drop=True)
                                    for x in (early, full)))
    assert early.analytic == full.analytic  # and the formula's size from the pilots near N*


def test_a_pilot_in_a_shared_world_is_that_world_with_a_pilot_seed_of_its_own():
    """`PilotJob.world` = w: the world is drawn from the key (WORLDS, w) under the run's root seed and the
    task's own seed draws the pilot, as `PilotModel(rng=pilot seed, world=world seed)` does from scratch;
    two replications in one world start from the same people and differ in who is assigned; the worker
    burns that world in once."""
    from labsim.design.replicate import WORLDS, run_job, run_until_complete

    sc = small_scenario(*MANDATORY)
    job = PilotJob(sc, horizon=13, figures=("employment",), world=3)
    world_cache.clear()
    a, b = (run_job(job, seed_for(4, (rep,))) for rep in (7, 8))
    assert world_cache.stats == {"hits": 1, "misses": 1}
    direct = PilotModel(sc, rng=seed_for(4, (7,)), world=np.random.SeedSequence(4, spawn_key=(WORLDS, 3)))
    run_until_complete(direct, job)
    _same(results_of(a), results_of(direct))
    ra, rb = results_of(a).individuals, results_of(b).individuals
    assert (a.seekers.motivation == b.seekers.motivation).all()  # the same people
    assert not ra[["person", "arm"]].equals(rb[["person", "arm"]])  # another randomisation
    other = run_job(PilotJob(sc, horizon=13, figures=("employment",), world=4), seed_for(4, (7,)))
    assert not (other.seekers.motivation == a.seekers.motivation).all()
    assert simulate(Task((7,), job), seed_for(4, (7,)))["world"] == 3  # replications.parquet's column


@pytest.mark.parametrize("kind", ["none", "rollout"])
def test_counterfactual_worlds_stop_once_their_pilots_last_cohort_is_complete(kind):
    """With `last_cohort` (its pilot's last intake week) a no-pilot or roll-out world runs `horizon` weeks
    past it, and every cohort up to it has the full-length run's counts."""
    sc = small_scenario(*MANDATORY, "weeks=90")
    variant = no_pilot(sc) if kind == "none" else roll_out(sc)
    seed = seed_for(8, (0,))
    pilot = simulate(Task((0,), PilotJob(sc, horizon=13, figures=("employment",))), seed)
    last = pilot["last_intake_week"]
    full = simulate(Task((0,), PilotJob(variant, kind, horizon=13)), seed)
    early = simulate(Task((0,), PilotJob(variant, kind, horizon=13, figures=("employment",), last_cohort=last)), seed)
    assert early["weeks_run"] == last + 13 < full["weeks_run"]
    for key in ("cohort_employed", "cohort_n"):
        assert early[key][: last + 1] == full[key][: last + 1], key


@pytest.mark.parametrize("design", [
    (), ("design.randomisation=office", "area.offices=6"),
    ("design.randomisation=area", "area.offices=6", "referral.start_week=14"),
    ("design.randomisation=saturation", "area.job_seekers=6000")])
def test_a_replication_reads_the_same_figures_from_its_lean_result(design):
    """`replication_result` (what `simulate` reads) gives every figure of a replication's record exactly as
    the run's full results do, for each design and for the no-pilot and roll-out worlds."""
    from labsim.design.replicate import cohort_totals
    from labsim.results.pilot import pilot_estimates
    import dataclasses

    from labsim.results.summary import RunResult, replication_result

    sc = small_scenario(*MANDATORY, *design)
    model = PilotModel(sc, rng=seed_for(6, (1,)))
    model.run_for(40)
    record = model.record()
    lean, full = replication_result(record), RunResult.from_record(record)
    a, b = pilot_estimates(lean, 13), pilot_estimates(full, 13)
    _equal_records(a, b, set())
    assert a.keys() == b.keys() and np.isfinite(a["estimate"])
    assert cohort_totals(lean, 13) == cohort_totals(full, 13)
    assert all(getattr(full.summary, f.name) == getattr(lean.summary, f.name) for f in dataclasses.fields(lean.summary))
    for variant in (no_pilot(sc), roll_out(sc)):
        m = PilotModel(variant, rng=seed_for(6, (1,)))
        m.run_for(30)
        r = m.record()
        assert cohort_totals(replication_result(r), 13) == cohort_totals(RunResult.from_record(r), 13)
