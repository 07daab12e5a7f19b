"""A damaged sweep store repairs itself on --resume, and `labsim results` says what is damaged."""

from __future__ import annotations

import pandas as pd
import pytest

from labsim.cli import main
from labsim.config.experiment import load_experiment
from labsim.sweep.store import RESULTS, Store
from labsim.sweep.sweep import run_sweep

from test_experiment import BASE

TINY = '["area.job_seekers=300", "area.burn_in_weeks=0", "weeks=6", "referral.target_participants=40"]'
BODY = f"""scenario = "{BASE}"
set = {TINY}
replications = 3
chunk = 1
[levers.grid]
"referral.mode" = ["voluntary", "mandatory"]
"""
DAMAGE = {
    "truncated": lambda b: b[: len(b) // 2],
    "empty": lambda b: b"",
    "garbage": lambda b: b"not parquet at all " * 20,
}


@pytest.fixture(scope="module")
def exp_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("exp") / "tiny.toml"
    path.write_text(BODY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def whole(exp_file, tmp_path_factory):
    """The rows of an uninterrupted sweep."""
    out = tmp_path_factory.mktemp("whole") / "s"
    run_sweep(load_experiment(exp_file), out, workers=1)
    return pd.read_parquet(out / RESULTS)


def stopped_after(exp_file, out, parts: int, monkeypatch) -> None:
    """A sweep stopped (like Ctrl-C) once `parts` parts are written."""
    written = []
    real = Store.write_part

    def write_part(self, chunk, rows):
        if len(written) == parts:
            raise KeyboardInterrupt
        real(self, chunk, rows)
        written.append(chunk)

    monkeypatch.setattr(Store, "write_part", write_part)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_experiment(exp_file), out, workers=1)
    monkeypatch.setattr(Store, "write_part", real)


def test_damaged_parts_are_set_aside_and_rerun_to_exactly_the_uninterrupted_rows(
        exp_file, whole, tmp_path, monkeypatch, capsys):
    out = tmp_path / "s"
    stopped_after(exp_file, out, 4, monkeypatch)
    parts = sorted((out / "parts").glob("p*.parquet"))
    assert len(parts) == 4
    for part, damage in zip(parts, DAMAGE.values()):
        part.write_bytes(damage(part.read_bytes()))
    assert main(["results", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "3 damaged" in err and "--resume" in err and parts[0].name in err

    assert main(["sweep", str(exp_file), "--out", str(out), "--resume", "--workers", "1"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / RESULTS), whole)
    assert sorted(p.name for p in (out / "damaged").iterdir()) == [p.name for p in parts[:3]]  # kept
    assert any(e["event"] == "repaired" and len(e["set_aside"]) == 3 for e in Store(out).status())


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_results_file_is_reported_then_rebuilt(exp_file, whole, tmp_path, damage, capsys):
    out = tmp_path / "s"
    run_sweep(load_experiment(exp_file), out, workers=1)
    results = out / RESULTS
    results.write_bytes(DAMAGE[damage](results.read_bytes()))
    assert main(["results", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "results.parquet: damaged" in err
    assert main(["sweep", str(exp_file), "--out", str(out), "--resume", "--workers", "1"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(results), whole)
    assert (out / "damaged" / RESULTS).is_file()  # set aside, not deleted


def test_deleted_parts_or_results_are_missing_chunks_never_zero_runs(exp_file, whole, tmp_path, monkeypatch,
                                                                     capsys):
    import shutil

    out = tmp_path / "s"
    stopped_after(exp_file, out, 2, monkeypatch)
    shutil.rmtree(out / "parts")
    assert main(["results", str(out)]) == 2
    err = capsys.readouterr().err
    assert "2 missing" in err and "0 runs" not in err
    assert main(["sweep", str(exp_file), "--out", str(out), "--resume", "--workers", "1"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / RESULTS), whole)

    (out / RESULTS).unlink()  # a finished store that lost everything
    capsys.readouterr()
    assert main(["results", str(out)]) == 2
    err = capsys.readouterr().err
    assert "6 missing" in err and "0 runs" not in err


def test_results_refuses_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text('{"seed": 1, "scenario": {}}')
    assert main(["results", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a sweep folder" in err


def test_results_of_a_sweep_with_nothing_in_yet_is_an_empty_unfinished_table(exp_file, tmp_path, monkeypatch,
                                                                              capsys):
    """Stopped before its first part (and with its log and parts/ gone too): 0 of 6 chunks in, exit 0."""
    import json
    import shutil

    out = tmp_path / "s"
    stopped_after(exp_file, out, 0, monkeypatch)
    for harm in (lambda: None, lambda: shutil.rmtree(out / "parts"), lambda: (out / "status.jsonl").unlink()):
        harm()
        capsys.readouterr()
        assert main(["results", str(out), "--json"]) == 0
        table = json.loads(capsys.readouterr().out)
        assert table["finished"] is False and table["points"] == []
        assert main(["results", str(out), "--csv", str(tmp_path / "t.csv")]) == 0
        assert "0 of 6 chunks" in capsys.readouterr().out
