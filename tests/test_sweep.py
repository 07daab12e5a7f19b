"""Sweeps: the same rows whatever the engine or the number of workers, and however often they are
interrupted (a real kill -9) and resumed; failures kept as data; a summary table by point."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labsim.cli import main
from labsim.config.experiment import load_experiment
from labsim.sweep.runner import Task, run_tasks
from labsim.sweep.store import Store
from labsim.sweep.sweep import run_sweep

from test_experiment import BASE, SMALL, experiment

GRID = """
[levers.grid]
"referral.mode" = ["voluntary", "mandatory"]
"payment.preset" = ["hybrid", "outcome_only"]
"""


def rows(folder) -> pd.DataFrame:
    return pd.read_parquet(folder / "results.parquet")


def test_serial_two_workers_and_dask_give_identical_rows(tmp_path):
    pytest.importorskip("distributed")
    plan = load_experiment(experiment(tmp_path, "chunk = 2\n" + GRID))
    run_sweep(plan, tmp_path / "serial", workers=1)
    run_sweep(plan, tmp_path / "local2", workers=2)
    run_sweep(plan, tmp_path / "dask2", engine="dask", workers=2)
    serial = rows(tmp_path / "serial")
    assert len(serial) == 4 * 3 and not serial.duplicated(["point", "replication"]).any()
    assert list(serial.columns[:6]) == ["point", "replication", "seed_key", "referral.mode",
                                        "payment.preset", "error"]
    assert serial["error"].isna().all()
    assert serial["employment_rate.13w.difference"].nunique() == len(serial)  # every run its own seed
    assert (serial["referral_mode"] == serial["referral.mode"]).all()  # each row ran its point's scenario
    pd.testing.assert_frame_equal(serial, rows(tmp_path / "local2"))
    pd.testing.assert_frame_equal(serial, rows(tmp_path / "dask2"))


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (Linux)."""
    parent = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_killed_sweep_resumes_to_exactly_the_rows_of_an_uninterrupted_run(tmp_path, capsys):
    body = 'chunk = 2\n[levers.grid]\n"referral.mode" = ["voluntary", "mandatory"]\n' \
           '"design.treatment_share" = [0.3, 0.5, 0.7]\n'
    path = experiment(tmp_path, body, head=f'scenario = "{BASE}"\nset = {SMALL}\nreplications = 6\n')
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "labsim", "sweep", str(path), "--out", str(out),
                             "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list((out / "parts").glob("p*.parquet")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    helpers = descendants(proc.pid)  # its worker processes (and their forkserver)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    parts = list((out / "parts").glob("p*.parquet"))
    assert parts and not (out / "results.parquet").exists(), "killed too late: the sweep had finished"
    deadline = time.monotonic() + 10
    while any(alive(p) for p in helpers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in helpers if alive(p)], "worker processes outlived the killed sweep"
    assert main(["results", str(out), "--json"]) == 0  # what is in so far
    so_far = json.loads(capsys.readouterr().out)
    assert not so_far["finished"] and sum(p["replications"] for p in so_far["points"]) == 2 * len(parts)
    assert main(["results", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"{len(parts)} of 18 chunks in" in text
    assert re.search(r"Point 0: referral rule: voluntary referral; share in the pilot arm: 30% \(\d+ runs?\)", text)

    assert main(["sweep", str(path), "--out", str(out), "--resume", "--workers", "1"]) == 0
    uninterrupted = tmp_path / "whole"
    run_sweep(load_experiment(path), uninterrupted, workers=1)
    resumed = rows(out)
    assert len(resumed) == 6 * 6 and not resumed.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(resumed, rows(uninterrupted))
    starts = [e for e in Store(out).status() if e["event"] == "start"]
    assert starts[-1]["resumed"] and starts[-1]["chunks_to_run"] <= 18 - len(parts)  # finished parts skipped
    assert not list(out.rglob(".*tmp*"))  # nothing half-written left behind


def test_finished_sweep_with_resume_does_nothing(tmp_path, capsys):
    path = experiment(tmp_path, GRID)
    out = tmp_path / "done"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 0
    assert "already finished" in capsys.readouterr().out
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()} == before


def test_resuming_with_a_changed_experiment_or_into_an_existing_folder_is_refused(tmp_path, capsys):
    path = experiment(tmp_path, GRID)
    out = tmp_path / "s"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--replications", "1"]) == 0
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--replications", "2"]) == 2
    assert "different experiment (replications changed" in capsys.readouterr().err
    path.write_text(path.read_text().replace('"outcome_only"', '"fixed_fee"'))
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--replications", "1"]) == 2
    assert "(levers changed" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(out), "--replications", "1"]) == 2
    assert "already exists (add --resume" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "not a sweep folder" in capsys.readouterr().err


def test_a_replication_that_raises_is_recorded_as_data(tmp_path, monkeypatch):
    from labsim.world.model import PilotModel

    real = PilotModel.run_for

    def fails_when_mandatory(self, weeks):
        if self.settings.referral.mode == "mandatory":
            raise RuntimeError("provider database unreachable")
        return real(self, weeks)

    monkeypatch.setattr(PilotModel, "run_for", fails_when_mandatory)
    out = tmp_path / "f"
    report = run_sweep(load_experiment(experiment(tmp_path, GRID)), out, workers=1)  # in this process
    table = rows(out)
    failed = table["referral.mode"] == "mandatory"
    assert report.failed == failed.sum() == 6 and report.rows == 12
    assert (table.loc[failed, "error"] == "RuntimeError: provider database unreachable").all()
    assert table.loc[failed, "take_up_rate"].isna().all()
    assert table.loc[~failed, "error"].isna().all() and table.loc[~failed, "take_up_rate"].notna().all()
    logged = [e for e in Store(out).status() if e["event"] == "failed"]
    assert sorted((e["point"], e["replication"]) for e in logged) == sorted(
        zip(table.loc[failed, "point"], table.loc[failed, "replication"]))


def test_outputs_keep_selects_summary_columns_and_refuses_a_pattern_matching_nothing(tmp_path, capsys):
    path = experiment(tmp_path, GRID + '[outputs]\nkeep = ["employment_rate.26w.*", "take_up_rate"]\n')
    run_sweep(load_experiment(path), tmp_path / "k", workers=1)
    kept = [c for c in rows(tmp_path / "k").columns
            if c not in ("point", "replication", "seed_key", "referral.mode", "payment.preset", "error")]
    assert sorted(kept) == sorted(["take_up_rate"] + [f"employment_rate.26w.{k}" for k in
                                  ("pilot", "n_pilot", "control", "n_control", "difference", "se", "ci_low",
                                   "ci_high", "p_value", "p_value_mc_se", "clusters", "test")])
    bad = experiment(tmp_path, GRID + '[outputs]\nkeep = ["employment.*"]\n', name="bad")
    assert main(["sweep", str(bad), "--out", str(tmp_path / "b"), "--workers", "1"]) == 2
    assert "field 'outputs.keep': 'employment.*' matches no output" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()  # refused before anything was written


def test_results_table_by_point_matches_the_rows_and_exports(tmp_path, capsys):
    out = tmp_path / "r"
    run_sweep(load_experiment(experiment(tmp_path, GRID)), out, workers=1)
    csv, xlsx = tmp_path / "t.csv", tmp_path / "t.xlsx"
    assert main(["results", str(out), "--json", "--csv", str(csv), "--xlsx", str(xlsx)]) == 0
    got = json.loads(capsys.readouterr().out)
    table = rows(out)
    means = table.groupby("point")["employment_rate.26w.difference"].agg(["mean", "count"])
    assert [p["point"] for p in got["points"]] == [0, 1, 2, 3] and got["finished"]
    for p in got["points"]:
        fig = p["figures"]["employment_rate.26w.difference"]
        assert fig["mean"] == pytest.approx(means.loc[p["point"], "mean"])
        assert fig["n"] == means.loc[p["point"], "count"] == p["replications"] == 3
        assert fig["ci_low"] < fig["mean"] < fig["ci_high"] and fig["p2_5"] <= fig["p97_5"]
        assert p["values"]["referral.mode"] == table.loc[table["point"] == p["point"], "referral.mode"].iloc[0]
    frame = pd.read_csv(csv)  # the workbook's labelled sheets are read back in tests/test_present.py
    assert frame["employment_rate.26w.difference.mean"].to_numpy() == pytest.approx(means["mean"].to_numpy())
    assert xlsx.is_file()
    assert main(["results", str(out)]) == 0
    assert "Point 3: referral rule: mandatory referral; payment model: outcome fee only (3 runs)" in capsys.readouterr().out
    assert main(["results", str(out), "--lang", "fi"]) == 0
    said = capsys.readouterr().out
    assert "Vaihtoehto 3: ohjaustapa: velvoittava ohjaus; maksumalli: pelkkä tulosperusteinen palkkio (3 ajoa)" in said
    assert "point" not in said and "runs" not in said


def test_stopping_early_cancels_tasks_not_yet_started():
    started, gate = [], threading.Event()

    def work(task, seed):
        started.append(task.key)
        if task.key != (0,):
            gate.wait(10)
        return task.key

    with ThreadPoolExecutor(1) as pool:
        results = run_tasks(work, [Task((i,)) for i in range(4)], root_seed=1, pool=pool, ahead=4)
        first, _ = next(results)
        results.close()  # as on Ctrl-C or an error in the caller
        gate.set()
    assert first.key == (0,)
    assert (2,) not in started and (3,) not in started  # queued, never run


def test_results_table_is_written_in_the_planners_language():
    from labsim.report.workbook import results_text
    from labsim.sweep.tables import STATS, PointTable, describe

    stats = describe(np.array([0.1, 0.2, 0.3]), share=True)
    frame = pd.DataFrame([{"point": 0, "design.treatment_share": 0.1, "replications": 3, "failed": 0,
                           **{f"employment_rate.26w.pilot.{k}": stats[k] for k in STATS}}])
    table = PointTable("t", ["design.treatment_share"], ["employment_rate.26w.pilot"], frame, None, 1)
    assert "Point 0: share in the pilot arm: 10% (3 runs)" in results_text(table, "en")
    fi = results_text(table, "fi")
    assert "Vaihtoehto 0: kokeiluryhmän osuus: 10\u00a0%" in fi and "20,0\u00a0%" in fi  # the mean, in Finnish


def test_intervals_of_shares_stay_within_0_and_1():
    from labsim.sweep.tables import describe, wilson

    power = describe(np.array([1.0, 0, 0, 0, 0]), share=True)  # 1 significant run of 5: the normal interval goes below 0
    assert (power["ci_low"], power["ci_high"]) == pytest.approx(wilson(1, 5))
    assert 0 < power["ci_low"] < 0.2 < power["ci_high"] < 1
    # statsmodels' Wilson interval agrees
    from statsmodels.stats.proportion import proportion_confint

    assert wilson(1, 5) == pytest.approx(proportion_confint(1, 5, method="wilson"))
    filled = describe(np.array([0.99, 1.0, 0.97, 1.0]), share=True)  # places filled: at most 100 %
    assert filled["ci_high"] == 1.0 and filled["ci_low"] < filled["mean"]
    assert describe(np.array([1.0, 1.0, 1.0]), share=True)["ci_high"] == 1.0


def test_interval_of_the_mean_agrees_with_statsmodels():
    from statsmodels.stats.weightstats import DescrStatsW

    from labsim.sweep.tables import describe

    x = np.random.default_rng(3).normal(0.05, 0.02, 40)
    got = describe(x)
    low, high = DescrStatsW(x).tconfint_mean(alpha=0.05)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((low, high), rel=1e-12)
    assert (got["p2_5"], got["p97_5"]) == pytest.approx(tuple(np.percentile(x, [2.5, 97.5])))
    assert got["n"] == 40 and describe(np.empty(0))["mean"] is None
