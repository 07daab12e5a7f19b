"""The `labsim` command: run folders are complete, reproducible and atomic; bad input fails cleanly.

Runs use a small world (2,000 seekers, 10 burn-in weeks, 30 pilot weeks) so the file stays fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from labsim.cli import main

SMALL = ["--set", "area.job_seekers=2000", "--set", "area.burn_in_weeks=10", "--weeks", "30"]
RUN_FILES = [
    "weekly.parquet", "weekly.csv", "individuals.parquet", "individuals.csv", "employment_by_week.csv",
    "summary.json",
    "manifest.json", "charts/stocks.png", "charts/volume.png", "charts/employment_by_arm.png",
    "charts/survival_by_arm.png", "charts/volume.svg",
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


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "baseline", "--seed", "many"])
    assert exc.value.code == 2


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


def test_light_commands_do_not_import_the_model_or_charts():
    code = (
        "import sys; from labsim.cli import main; "
        "assert main(['validate', 'baseline']) == 0; assert main(['scenarios']) == 0; "
        "heavy = sorted({'mesa', 'matplotlib', 'labsim.world.model'} & set(sys.modules)); "
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
