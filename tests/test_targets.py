"""Calibration targets: the bundled files are valid, bad files stop with one line naming the file and
field (exit 2), and the moments a target may name are the ones summary.json holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from labsim.cli import main
from labsim.config.targets import WORLD_MOMENTS, load_targets
from labsim.results.moments import RunMoments
from labsim.world.model import PilotModel
from labsim.results.summary import results_of

from conftest import small_scenario

ROOT = Path(__file__).resolve().parents[1]
GOOD = '[[targets]]\nname = "x"\nmoment = "long_term_share"\nfigure = 0.3\nrange = [0.26, 0.34]\nsource = "s"\n'


def test_bundled_targets_are_valid_and_flag_what_facts_calls_unverified(capsys):
    files = sorted((ROOT / "targets").glob("*.toml"))
    assert {f.stem for f in files} >= {"finland_labour_market", "provider_effects"}
    assert main(["validate", *map(str, files), "finland_labour_market"]) == 0
    effects = load_targets(ROOT / "targets" / "provider_effects.toml").targets
    assert {t.name for t in effects if t.unverified} == {"crepon_2013_itt", "crepon_2013_take_up"}
    labour = load_targets(ROOT / "targets" / "finland_labour_market.toml").targets
    assert {t.moment for t in labour} == set(WORLD_MOMENTS)


@pytest.mark.parametrize("change, field, says", [
    (('moment = "long_term_share"', 'moment = "happiness"'), "targets.0.moment", "unknown moment 'happiness'"),
    (("range = [0.26, 0.34]", "range = [0.34, 0.26]"), "targets.0.range", "negative or empty range"),
    (('source = "s"\n', ""), "targets.0.source", "Field required"),
    (("figure = 0.3", "figure = 0.5"), "targets.0", "outside its range"),
])
def test_a_bad_targets_file_is_one_line_naming_file_and_field(tmp_path, capsys, change, field, says):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(*change), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{path}: field '{field}'" in err and says in err


def test_calibrate_refuses_a_bad_targets_file_before_running(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("range = [0.26, 0.34]", "range = [0.3, -0.3]"), encoding="utf-8")
    out = tmp_path / "cal"
    assert main(["calibrate", "baseline", "--targets", str(path), "--params", "market.matching_efficiency",
                 "--out", str(out)]) == 2
    assert f"{path}: field 'targets.0.range'" in capsys.readouterr().err
    assert not out.exists()


def test_summary_holds_every_moment_a_target_may_name():
    assert tuple(RunMoments.__dataclass_fields__) == WORLD_MOMENTS
    sc = small_scenario("weeks=30")
    m = PilotModel(sc, rng=3)
    m.run_for(sc.weeks)
    got = results_of(m).summary.moments
    assert set(got) == set(WORLD_MOMENTS)
    first = m.datacollector.get_model_vars_dataframe().iloc[0]
    assert got["vacancies_per_unemployed"] == pytest.approx(first["vacancies"] / first["unemployed"], rel=1e-5)
    assert 0 < got["monthly_outflow"] < 1 and 0 < got["exits_to_work_share"] < 1
