"""The one size job: its typed answer, size.json's published format, the verdict, the analytic size from
the pilots near N*, and cluster sizes that start where the design is admissible."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from labsim.config.errors import LabsimError
from labsim.config.scenario import load_scenario
from labsim.design.evidence import Range
from labsim.design.replicate import SEARCH_FIGURES
from labsim.design.size import analytic_near
from labsim.design.size_answer import SCHEMA, MinimumSize, SizeAnswer, TypeICheck
from labsim.design.size_job import admissible

from report_fixtures import size_fixture
from test_size import CENTRAL, job, no_rollout, stub, z_stub

DOCS = Path(__file__).resolve().parents[1] / "docs" / "formats.md"


def _paths(value, prefix: str = "") -> set[str]:
    """The dotted field names of a JSON value (list items as `[]`)."""
    if isinstance(value, dict):
        out = set()
        for k, v in value.items():
            out |= {f"{prefix}{k}"} | _paths(v, f"{prefix}{k}.")
        return out
    if isinstance(value, list):
        out = set()
        for v in value:
            out |= _paths(v, f"{prefix.rstrip('.')}[].")
        return out
    return set()


@pytest.fixture(scope="module")
def answered() -> SizeAnswer:
    return job(7, z_stub(7), [Range("providers.effort_effect", 0.45, CENTRAL, 0.78)], type_i_sims=20).answer


def test_the_answer_is_frozen_and_reads_back_as_it_was_written(answered):
    with pytest.raises(AttributeError):
        answered.status = "found"  # nothing is added to an answer after it is made
    again = SizeAnswer.from_json(json.loads(json.dumps(answered.to_json())))
    assert again == answered
    assert again.to_json() == answered.to_json()


def test_size_json_is_the_format_docs_formats_md_publishes(answered):
    """Every field size.json holds is documented, and every documented field is written."""
    block = re.search(r"<!-- size.json fields -->\n```text\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert block, "docs/formats.md lists size.json's fields in a text block after <!-- size.json fields -->"
    documented = {line.split()[0] for line in block.group(1).splitlines() if line.strip()}
    from conftest import small_scenario

    none = job(1, stub(1), scenario=small_scenario("providers.effort_effect=0")).answer  # no size reaches it
    assert none.status == "not_reachable"
    written = _paths(answered.to_json()) | _paths(none.to_json())
    assert written == documented, (sorted(written - documented), sorted(documented - written))
    assert f"`{SCHEMA}`" in DOCS.read_text(encoding="utf-8")


def test_an_old_size_json_is_refused_with_a_clear_message(tmp_path, capsys):
    with pytest.raises(LabsimError, match="another format .*no schema.*run `labsim size` again"):
        SizeAnswer.from_json({"minimum_size": 1040, "power_curve": []})
    with pytest.raises(LabsimError, match="not a valid"):
        SizeAnswer.from_json({"schema": SCHEMA, "status": "found"})
    from labsim.cli import main

    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "size.json").write_text(json.dumps({"minimum_size": 1040, "power_curve": []}))
    (folder / "power_curve.csv").write_text("size,power,power_se,analytic_power,mean_se\n")
    assert main(["report", str(folder), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "written in another format" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_the_verdict_is_green_only_when_precision_interval_evidence_and_type_i_agree():
    a = size_fixture()  # 1,040 (930-1,160) with 1,500 places planned, type-I 5 % (2-10 %)
    assert a.verdict().green and a.verdict().reasons == ()
    few = replace(a, question=replace(a.question, planned=1100))  # within the interval, not above it
    assert few.verdict().reasons == ("interval",) and few.verdict().needed == 1160
    assert replace(a, status="budget").verdict().reasons == ("precision",)
    wide = replace(a, minimum=MinimumSize(1039.4, 700.0, math.inf))  # an open interval is never enough
    assert "interval" in wide.verdict().reasons
    loose = replace(a, type_i=TypeICheck(1040, 0.2, 0.03, (0.12, 0.3), 200))
    assert loose.verdict().reasons == ("type_i",)
    from report_fixtures import Evidence

    doubtful = replace(a, evidence=Evidence((), (), 0.8, MinimumSize(1499.5, 1350.2, 1719.8), 600))
    assert doubtful.verdict().reasons == ("evidence",) and doubtful.verdict().needed == 1720
    unknown = replace(a, evidence=Evidence((), (), 0.8, None, 600))
    assert not unknown.verdict().green


def test_both_sizes_are_given_when_the_overstatement_excludes_one(tmp_path):
    from report_fixtures import add_uncertainty, make_run, make_size

    from labsim.report.report import render

    size = add_uncertainty(make_size(tmp_path / "size", make_run(tmp_path / "run")))
    a = SizeAnswer.from_json(json.loads((size / "size.json").read_text()))
    assert a.rollout.differs() and a.headline().estimand == "itt"
    html = render(size, "en")
    assert "for the first it needs 1,040 participants" in html and "for the second 1,100 participants" in html
    assert "The headline is the size for the pilot&#39;s estimate" in html
    assert "its own estimate of the employment effect" in html  # the question names the same effect
    ro = replace(a, question=replace(a.question, estimand="rollout"))
    assert ro.headline().size == 1100 and ro.headline().effect == a.rollout.overstatement.rollout
    for lang in ("fi", "sv"):
        assert "1\u00a0100" in render(size, lang)


def test_the_analytic_size_from_pilots_near_n_star_is_the_textbook_size():
    """Pilots whose effect is 2 pp with SE 0.5 / sqrt(N): the two-sample formula with the effect and
    spread measured near N* gives N = ((z_0.975 + z_0.8) 0.5 / 0.02)^2 = 4,906. Over 600 pilots the
    effect's relative SE is about 1.4 %, N's about 2.9 %: 12 % is four of them."""
    rng = np.random.default_rng(11)
    sizes = np.repeat([2000, 4000, 5000, 6000, 12000], 200)
    se = 0.5 / np.sqrt(sizes)
    df = pd.DataFrame({"size": sizes, "estimate": rng.normal(0.02, se), "se": se, "part": "search"})
    truth = ((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * 0.5 / 0.02) ** 2
    a = analytic_near(df, 4900, 0.05, 0.8)
    assert a.pilots == 600 and a.near == pytest.approx(5000)
    assert a.size == pytest.approx(truth, rel=0.12)
    assert a.ci[0] < truth < a.ci[1]
    assert analytic_near(df.iloc[:1], 4900, 0.05, 0.8) is None  # one pilot: no spread


def test_without_evidence_the_job_sizes_the_stub_where_the_search_does():
    """With no assumption ranges the job's central answer is the search's own (same seed, same stub):
    nothing recomputed, and the curve it carries is the search's own fit."""
    from labsim.design.size import SearchSettings, search_size

    from conftest import small_scenario

    central = search_size(small_scenario(), SearchSettings(seed=7, type_i_sims=0), run=z_stub(7))
    alone = job(7, z_stub(7)).answer
    assert alone.minimum == central.minimum and alone.power_curve == central.power_curve
    assert alone.curve == central.curve and not alone.curve.joint
    assert alone.analytic is not None and alone.analytic.size == pytest.approx(central.minimum.n_star, rel=0.3)


def test_with_evidence_the_central_size_is_read_from_every_pilot(answered):
    """With a range the joint search refines the central N* too: the answer reads it from the joint fit at
    the scenario's values (its curve says so and counts the joint pilots with the central ones), the
    fitted curve crosses the target power at N*, and the range's end at the scenario's value is that N*."""
    curve = answered.curve
    assert curve.joint and curve.pilots > len(answered.power_curve) * 40
    assert curve.power(answered.minimum.n_star) == pytest.approx(answered.question.target_power, abs=1e-6)
    centre = [e for e in answered.evidence.by_assumption if e.value == CENTRAL]
    assert centre and all(e.minimum == answered.minimum and e.status == answered.status for e in centre)


@pytest.mark.parametrize("lang, words", [("en", "at the scenario's values and"), ("fi", "skenaarion arvoilla ja"),
                                         ("sv", "vid scenariots värden och")])
def test_the_answer_says_which_pilots_the_size_is_read_from(answered, lang, words):
    """The answer's row names the pilots the curve was fitted to, split into central and joint, and the
    agreement z, in each language; without evidence, the central pilots alone."""
    from labsim.report.answers import size_answer
    from labsim.report.i18n import number, text

    central = sum(p.sims for p in answered.power_curve)
    (row,) = [v for k, v in size_answer(answered, lang).rows if k == text("n_fit", lang)]
    assert words in row and number(answered.curve.pilots - central, lang) in row
    assert number(answered.curve.agreement, lang, 2) in row
    alone = job(7, z_stub(7)).answer
    (row,) = [v for k, v in size_answer(alone, lang).rows if k == text("n_fit", lang)]
    assert number(sum(p.sims for p in alone.power_curve), lang) in row and words not in row


def test_office_clusters_start_where_the_test_can_reject_and_say_so(tmp_path, monkeypatch, capsys):
    """baseline has 2 offices, one per arm: `--design office --by offices` starts at 7 (4 in the pilot arm:
    the randomisation test's smallest p is 1/35; with 6, 2/20 = 0.1 > 0.05), says so, and answers instead
    of exiting."""
    from contextlib import contextmanager

    import labsim.design.size_job as size_job
    from labsim.catalog import resolve_scenario
    from labsim.cli import main

    path = resolve_scenario("baseline")
    grown, note = admissible(load_scenario(path), "office", str(path))
    assert grown.area.offices == 7 and grown.design.randomisation == "office"
    assert "starts at 7 offices (4 in the pilot arm)" in note and "smallest attainable p 1" in note
    with pytest.raises(LabsimError, match="2 offices in each arm"):
        load_scenario(path, ["design.randomisation=office"])  # the scenario itself stays refused as it was

    @contextmanager
    def stub_pool(s, bar=None, pool=None):
        yield stub(s.seed)

    monkeypatch.setattr(size_job, "pool_simulator", stub_pool)
    monkeypatch.setattr(size_job, "rollout_part", no_rollout)
    out = tmp_path / "offices"
    assert main(["size", "baseline", "--design", "office", "--by", "offices", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "starts at 7 offices (4 in the pilot arm)" in printed.out + printed.err
    a = SizeAnswer.from_json(json.loads((out / "size.json").read_text()))
    assert a.question.start and min(p.size for p in a.power_curve) >= 7


def test_the_answer_s_seconds_are_the_job_s_own_wall_time():
    """The printed time is the job's wall time: the central search's part counted once, not twice (the
    central search is part of the job's clock); pilots that take 30 ms a batch make any double count show."""
    import time

    inner = z_stub(3)

    def slow(pairs, size, label, figures=SEARCH_FIGURES):
        time.sleep(0.03)
        return inner(pairs, size, label, figures)

    started = time.perf_counter()
    answer = job(3, slow).answer
    wall = time.perf_counter() - started
    slept = 0.03 * answer.sims_total / 40
    assert slept <= answer.seconds <= wall + 0.05
