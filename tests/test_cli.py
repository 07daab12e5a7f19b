"""The `labsim` command: run folders are complete, reproducible and atomic; bad input fails cleanly.

Runs use a small world (2,000 seekers, 10 burn-in weeks, 30 pilot weeks) so the file stays fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from labsim.cli import main

SMALL = ["--set", "area.job_seekers=2000", "--set", "area.burn_in_weeks=10", "--weeks", "30"]
RUN_FILES = [
    "weekly.parquet", "weekly.csv", "individuals.parquet", "individuals.csv", "employment_by_week.csv",
    "summary.json",
    "manifest.json", "charts/stocks.png", "charts/volume.png", "charts/employment_by_arm.png",
    "charts/survival_by_arm.png",
]


def _run(out: Path, *extra: str) -> int:
    return main(["run", "baseline", *SMALL, "--out", str(out), *extra])


def _leftovers(folder: Path) -> list[str]:
    """Temporary or half-written folders next to where a run would go."""
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


@pytest.fixture(scope="module")
def seed1(tmp_path_factory) -> tuple[Path, str]:
    """One real `python -m labsim run --json` in a subprocess: its folder and its stdout."""
    out = tmp_path_factory.mktemp("runs") / "seed1"
    proc = subprocess.run(
        [sys.executable, "-m", "labsim", "run", "baseline", *SMALL, "--seed", "1", "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return out, proc.stdout


def test_run_writes_every_file_and_they_load(seed1):
    out, _ = seed1
    for name in RUN_FILES:
        assert (out / name).is_file(), name
    assert not list((out / "charts").glob("*.svg"))  # SVG on request: `labsim plot DIR --svg`
    weekly = pd.read_parquet(out / "weekly.parquet")
    assert list(weekly["week"]) == list(range(31))
    pd.testing.assert_frame_equal(pd.read_csv(out / "weekly.csv"), weekly, check_dtype=False)
    individuals = pd.read_parquet(out / "individuals.parquet")
    assert len(individuals) == len(pd.read_csv(out / "individuals.csv")) > 0
    assert set(individuals["arm"]) == {"pilot", "control"}
    for png in (out / "charts").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _leftovers(out.parent) == []


def test_json_output_is_the_summary(seed1):
    out, stdout = seed1
    assert json.loads(stdout) == json.loads((out / "summary.json").read_text())


def test_manifest_records_what_was_run(seed1):
    out, _ = seed1
    m = json.loads((out / "manifest.json").read_text())
    assert m["seed"] == 1 and m["weeks"] == 30
    assert m["source"].endswith("baseline.toml")
    assert m["overrides"] == ["area.job_seekers=2000", "area.burn_in_weeks=10"]
    assert m["scenario"]["area"]["job_seekers"] == 2000
    for pkg in ("mesa", "numpy", "scipy", "pandas", "matplotlib", "pyarrow", "pydantic"):
        assert m["packages"][pkg], pkg
    assert m["labsim_version"] and m["python"] and m["platform"] and m["created_utc"]


def test_same_seed_same_results_different_seed_differs(seed1, tmp_path):
    out, _ = seed1
    assert _run(tmp_path / "again", "--seed", "1", "--no-charts") == 0
    assert _run(tmp_path / "other", "--seed", "2", "--no-charts") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert json.loads((tmp_path / "again" / "summary.json").read_text()) == summary
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "again" / "weekly.parquet"), pd.read_parquet(out / "weekly.parquet")
    )
    assert json.loads((tmp_path / "other" / "summary.json").read_text()) != summary
    assert not (tmp_path / "again" / "charts").exists()


def test_override_is_reflected_in_manifest_and_results(tmp_path, capsys):
    out = tmp_path / "mandatory"
    assert _run(out, "--set", "referral.mode=mandatory", "--no-charts", "--weeks", "4") == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["scenario"]["referral"]["mode"] == "mandatory"
    assert "referral.mode=mandatory" in m["overrides"] and m["weeks"] == 4
    assert json.loads((out / "summary.json").read_text())["referral_mode"] == "mandatory"
    assert "Participants reached" in capsys.readouterr().out


def test_force_replaces_an_existing_folder(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    assert _run(out, "--weeks", "2", "--no-charts", "--force") == 0
    assert not (out / "old.txt").exists() and (out / "summary.json").is_file()
    assert _leftovers(tmp_path) == []


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch, capsys):
    import labsim.report.charts

    def interrupt(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(labsim.report.charts, "write_charts_for", interrupt)
    assert _run(tmp_path / "run", "--weeks", "2") == 130
    assert list(tmp_path.iterdir()) == []
    assert "interrupted" in capsys.readouterr().err


@pytest.fixture
def not_toml(tmp_path) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text("name = 'x'\narea = [\n")
    return path


BASE = "baseline.toml"
BAD_RUNS = {
    "missing file": (["run", "{tmp}/missing.toml"], ["missing.toml", "no such scenario file"]),
    "not TOML": (["run", "{tmp}/broken.toml"], ["broken.toml", "not valid TOML"]),
    "unknown field": (["run", "baseline", "--set", "area.colour=3"], [BASE, "area.colour", "unknown field"]),
    "wrong type": (["run", "baseline", "--set", 'area.job_seekers="many"'], [BASE, "area.job_seekers", "many"]),
    "negative size": (["run", "baseline", "--set", "area.job_seekers=-5"], [BASE, "area.job_seekers", "-5"]),
    "bad enum": (["run", "baseline", "--set", "referral.mode=sometimes"], [BASE, "referral.mode", "sometimes"]),
    "shares": (
        ["run", "baseline", "--set", "population.age_shares.under_25=0.5"],
        [BASE, "population", "age groups shares must sum to 1"],
    ),
    "override without =": (["run", "baseline", "--set", "area.job_seekers"], [BASE, "area.job_seekers", "="]),
    "unknown bundled name": (["run", "no_such_world"], ["no_such_world", "baseline"]),
    "negative seed": (["run", "baseline", "--seed", "-3"], ["--seed", "0 or more"]),
    "negative weeks": (["run", "baseline", "--weeks", "-1"], ["--weeks", "1 or more"]),
    "validate": (["validate", "baseline", "--set", "referral.mode=sometimes"], [BASE, "referral.mode"]),
    # values the schema used to accept but the model cannot run
    "NaN take-up": (["run", "baseline", "--set", "referral.take_up.intercept=nan"],
                    [BASE, "referral.take_up.intercept", "finite"]),
    "infinite fee": (["run", "baseline", "--set", "payment.outcome.fee_eur=inf"],
                     [BASE, "payment.outcome.fee_eur", "finite"]),
    "bool for weeks": (["run", "baseline", "--set", "weeks=true"], [BASE, "'weeks'", "integer", "True"]),
    "zero separation": (["run", "baseline", "--set", "market.separation.gig_work=0"],
                        [BASE, "market.separation", "above 0"]),
    "zero return": (["run", "baseline", "--set", "market.from_inactivity=0"],
                    [BASE, "market.from_inactivity", "above 0"]),
    "no multipliers": (["run", "baseline", "--set", "payment.preset='differential'",
                        "--set", "payment.groups.multipliers=[]"], [BASE, "payment.groups", "multiplier"]),
    "too many seekers": (["run", "baseline", "--set", f"area.job_seekers={2**40}"],
                         [BASE, "area.job_seekers", "1,000,000", "Limits"]),
    "too many weeks": (["run", "baseline", "--set", "weeks=1000000000"], [BASE, "'weeks'", "520"]),
    "too many --weeks": (["run", "baseline", "--weeks", "1000000000"], ["--weeks", "520", "Limits"]),
    # a cluster design needs two offices in each arm (issue 15): refused by run, diagnose and size alike
    "one office": (["run", "baseline", "--set", "area.offices=1", "--set", "design.randomisation=office"],
                   [BASE, "area.offices", "2 offices in each arm"]),
    "office design, 2 offices": (["diagnose", "baseline", "--design", "office"],
                                 [BASE, "1 pilot and 1 control", "2 offices in each arm"]),
    # with offices as the lever the search starts where the design is admissible instead (test_size_job.py)
    "area design, 3 offices": (["size", "baseline", "--design", "area", "--set", "area.offices=3"],
                               [BASE, "2 pilot and 1 control", "2 offices in each arm"]),
}


@pytest.mark.parametrize("argv, expected", BAD_RUNS.values(), ids=BAD_RUNS.keys())
def test_bad_input_fails_on_one_line_without_output(argv, expected, tmp_path, not_toml, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    out = tmp_path / "out"
    if argv[0] == "run":
        argv += ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("labsim: error: "), err
    assert "Traceback" not in err
    for word in expected:
        assert word in err, (word, err)
    assert not out.exists() and _leftovers(tmp_path) == []


def test_existing_output_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert _run(out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "--force" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and _leftovers(tmp_path) == []


def test_usage_errors_exit_2_on_one_line(capsys):
    assert main(["run", "baseline", "--seed", "many"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seed" in err and "many" in err


def test_validate_reports_each_file(tmp_path, not_toml, capsys):
    assert main(["validate", "baseline", "--set", "referral.mode=mandatory"]) == 0
    assert capsys.readouterr().out == "ok: baseline\n"
    assert main(["validate", str(not_toml), "baseline"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "ok: baseline\n" and "broken.toml" in captured.err


def test_scenarios_lists_names_and_first_line_of_description(tmp_path, monkeypatch, capsys):
    (tmp_path / "small_town.toml").write_text('description = """A small town.\nMore detail."""\n')
    (tmp_path / "plain.toml").write_text('name = "plain"\n')
    monkeypatch.setenv("LABSIM_SCENARIOS", str(tmp_path))
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["plain", "small_town"]
    assert lines[1].endswith("A small town.")
    # a bundled name resolves through the same folder
    assert main(["validate", "small_town"]) == 0


def test_experiments_are_listed_and_validated_like_scenarios(tmp_path, monkeypatch, capsys):
    (tmp_path / "base.toml").write_text('name = "base"\n')
    (tmp_path / "sizes.toml").write_text(
        'description = """Three sizes.\nMore."""\nscenario = "base.toml"\nreplications = 2\n'
        '[levers.grid]\n"referral.target_participants" = [100, 200, 300]\n')
    (tmp_path / "empty_grid.toml").write_text(
        'scenario = "base.toml"\nreplications = 2\n[levers.grid]\n"referral.target_participants" = []\n')
    monkeypatch.setenv("LABSIM_EXPERIMENTS", str(tmp_path))
    assert main(["experiments"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["base", "empty_grid", "sizes"]
    assert lines[2].endswith("Three sizes.")
    assert main(["validate", "sizes", str(tmp_path / "sizes.toml")]) == 0  # by name and by path
    assert capsys.readouterr().out.splitlines() == ["ok: sizes", f"ok: {tmp_path / 'sizes.toml'}"]
    assert main(["validate", "empty_grid"]) == 2  # judged as an experiment, not as a scenario
    err = capsys.readouterr().err
    assert "empty_grid.toml" in err and "referral.target_participants" in err
    assert main(["validate", "sizes", "--set", "weeks=3"]) == 2
    assert "--set applies to scenarios" in capsys.readouterr().err


def test_light_commands_do_not_import_the_model_or_charts():
    code = (
        "import sys; from labsim.cli import main; "
        "assert main(['validate', 'baseline']) == 0; assert main(['scenarios']) == 0; "
        "heavy = sorted({'mesa', 'matplotlib', 'labsim.world.model'} & set(sys.modules)); "
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# -- failures that are not bad input -----------------------------------------------------------------


@pytest.fixture
def broken_model(monkeypatch):
    """The model fails with an unexpected error (a bug), with a message on two lines."""
    import labsim.world.model

    def boom(*_args, **_kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(labsim.world.model, "PilotModel", boom)


def test_unexpected_error_is_one_line_asking_for_a_report(broken_model, tmp_path, capsys):
    assert _run(tmp_path / "run") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("labsim: internal error in 'run': RuntimeError: boom second line; please report")
    assert "--debug" in err
    assert list(tmp_path.iterdir()) == []  # no folder, no temporary folder, no lock


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(broken_model, tmp_path, capsys, where):
    argv = ["run", "baseline", *SMALL, "--out", str(tmp_path / "run")]
    assert main(["--debug", *argv] if where == "before" else [*argv, "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: boom" in err and "internal error in 'run'" in err


def test_out_of_memory_says_what_to_do(monkeypatch, tmp_path, capsys):
    import labsim.world.model

    def too_big(*_args, **_kwargs):
        raise MemoryError

    monkeypatch.setattr(labsim.world.model, "PilotModel", too_big)
    assert _run(tmp_path / "run") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "out of memory" in err and "Limits" in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test (exit 1, not 2) if the model is ever built."""
    import labsim.world.model

    def never(*_args, **_kwargs):
        raise AssertionError("simulated although the output folder cannot be written")

    monkeypatch.setattr(labsim.world.model, "PilotModel", never)


def test_unwritable_output_folder_is_refused_before_simulating(no_simulation, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert _run(blocker / "run") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(blocker) in err and "is a file" in err, err
    if Path("/proc/self").is_dir():  # a folder nobody can write in, even root
        assert _run(Path("/proc/labsim-test/run")) == 2
        assert "cannot write in /proc" in capsys.readouterr().err


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_killed_runs_are_cleaned_by_the_next_run(tmp_path):
    from filelock import FileLock

    from labsim.results.output import MARK

    dead = _dead_pid()
    for name in (f"run.tmp-{dead}", f"older.old-{dead}", f"gone.old-{dead}"):
        (tmp_path / name).mkdir()
        (tmp_path / name / MARK).touch()
        (tmp_path / name / "summary.json").write_text(name)
    (tmp_path / "older").mkdir()  # the swap was done: the old copy is garbage
    (tmp_path / "other.lock").write_text("")  # a killed run's lock file: the OS released its lock
    (tmp_path / f"notes.old-{dead}").mkdir()  # not labsim's: kept
    (tmp_path / f"live.tmp-{os.getpid()}").mkdir()  # a folder whose lock is held: kept
    (tmp_path / f"live.tmp-{os.getpid()}" / MARK).touch()

    with FileLock(tmp_path / "live.lock", timeout=0, is_singleton=False):
        assert _run(tmp_path / "run", "--weeks", "2", "--no-charts") == 0
    (tmp_path / "live.lock").unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["run", "older", "gone", f"notes.old-{dead}", f"live.tmp-{os.getpid()}", "other.lock"])
    # a replaced run caught mid-swap is put back where it was, without the marker
    assert sorted(p.name for p in (tmp_path / "gone").iterdir()) == ["summary.json"]


GATED = """
import os, sys, time
from pathlib import Path
import labsim.world.model as world
from labsim.cli import main

gate, argv = Path(sys.argv[1]), sys.argv[2:]
run_for = world.PilotModel.run_for

def gated(self, n):
    # the first week waits, while the run holds its output folder, until the test says go
    (gate / f"started-{os.getpid()}").touch()
    while not (gate / "go").exists():
        time.sleep(0.02)
    world.PilotModel.run_for = run_for
    return run_for(self, n)

world.PilotModel.run_for = gated
sys.exit(main(argv))
"""


def _spawn(out: Path, gate: Path, *extra: str) -> subprocess.Popen:
    """`labsim run` in its own process, which waits in its first week until `gate/go` exists."""
    gate.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-c", GATED, str(gate), "run", "baseline", *SMALL, "--no-charts",
         "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait(until, procs: list[subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, [p.poll() for p in procs]
        time.sleep(0.02)


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_a_run_stops_it_cleanly(tmp_path, signum, code):
    """A second run into the same folder is refused while the first runs (even with --force); a
    signal then stops the first with its exit code, one line, and nothing written."""
    out, gate = tmp_path / "runs" / "run", tmp_path / "gate"
    first = _spawn(out, gate)
    try:
        _wait(lambda: any(gate.glob("started-*")) or first.poll() is not None, [first])
        assert first.poll() is None, first.communicate()
        assert _run(out, "--force") == 2  # the pytest process is the second run
        first.send_signal(signum)
        _, err = first.communicate(timeout=60)
    finally:
        first.kill()
    assert first.returncode == code, err
    assert err.count("\n") == 1 and "Traceback" not in err and "no half-written output" in err, err
    assert list(out.parent.iterdir()) == []


def test_sigterm_while_writing_leaves_nothing(tmp_path):
    """SIGTERM in the middle of writing the folder: the temporary folder goes, no half run is left."""
    code = (
        "import os, signal, sys; import labsim.report.charts as charts; from labsim.cli import main\n"
        "charts.write_charts_for = lambda *a, **k: os.kill(os.getpid(), signal.SIGTERM)\n"
        f"sys.exit(main(['run', 'baseline', *{SMALL!r}, '--weeks', '2', '--out', {str(tmp_path / 'run')!r}]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 143, proc.stderr
    assert "stopped by SIGTERM" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_two_runs_into_one_folder_cannot_both_succeed(tmp_path):
    """Started together, with --force: one is refused on one line while the other holds the folder
    (both wait in their first week until one has ended), then the other finishes."""
    out, gate = tmp_path / "runs" / "run", tmp_path / "gate"
    runs = [_spawn(out, gate, "--force", "--json") for _ in range(2)]
    try:
        _wait(lambda: any(r.poll() is not None for r in runs), runs)  # a run that held the folder
        (loser,) = [r for r in runs if r.poll() is not None]         # too would still be waiting
        (winner,) = [r for r in runs if r is not loser]
        _, err = loser.communicate()
        assert loser.returncode == 2 and "another labsim process" in err and err.count("\n") == 1, err
        (gate / "go").touch()
        stdout, err = winner.communicate(timeout=120)
    finally:
        for r in runs:
            r.kill()
    assert winner.returncode == 0, err
    assert json.loads(stdout) == json.loads((out / "summary.json").read_text())
    assert [p.name for p in out.parent.iterdir()] == ["run"]  # no temporary folder, no lock
