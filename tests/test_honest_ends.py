"""Honest ends (commit e2c045a): an end of the evidence whose size lies beyond the places the area fills
reads "not reachable" even when only the central search saw the catchment fill no more; a roll-out size
beyond those places says so (`n_beyond_places`, fi/sv/en); the precision reached is written with "±";
the within-segment share has a name in each language. Stub pilots (tests/test_size.py), no simulation."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from labsim.design.evidence import Range, assess_evidence
from labsim.design.rollout import Overstatement
from labsim.design.size import MinimumSize, PowerPoint, SearchSettings, search_size
from labsim.report.answers import _both_sizes, _reached, _uncertainty_rows
from labsim.report.i18n import text
from labsim.report.levers import lever_name

from conftest import small_scenario
from report_fixtures import size_fixture
from test_size import CENTRAL, capped_stub, z_stub

CAP = 2300  # places the stub's catchment fills; N* at the central value is about 1,990 (below it)
#: effort_effect 0.5 needs about 1,990 (0.6 / 0.5)^2 = 2,870 participants: more than the catchment fills
LOW_END = Range("providers.effort_effect", 0.5, CENTRAL, 0.7)


SETTINGS = SearchSettings(seed=2, type_i_sims=0)


@pytest.fixture(scope="module")
def centrals():
    """The central search in the capped catchment and in one where every target fills (searched once)."""
    return {cap: search_size(small_scenario(), SETTINGS, run=capped_stub(2, cap) if cap else z_stub(2))
            for cap in (CAP, None)}


def _ends(central):
    """The low, central and high ends of LOW_END, the joint pilots filling every place they are asked."""
    return assess_evidence(small_scenario(), SETTINGS, z_stub(2), [LOW_END], central, 0.8).by_assumption


def test_an_end_beyond_the_places_only_the_central_search_saw_filled_is_not_reachable(centrals):
    """The central search tried a target above 2,300 and filled 2,300; the joint pilots (all below it) filled
    every place. The low end needs about 2,870: not reachable, 2,300 places filled, not a size found by
    extrapolating the joint fit past the catchment (what it read before e2c045a: "budget", about 3,800)."""
    central = centrals[CAP]
    low, mid, high = _ends(central)
    assert central.status == "found" and (central.rows["size"] > CAP).any()  # the central search saw the cap
    assert low.status == "not_reachable" and low.minimum is None
    assert low.places_filled == pytest.approx(CAP)
    assert mid.minimum == central.minimum and high.status != "not_reachable"  # the ends within reach keep theirs


def test_without_a_cap_the_same_end_is_a_size_beyond_the_old_places(centrals):
    """The same end where every target fills: a size (above 2,300), no places filled given."""
    low = _ends(centrals[None])[0]
    assert low.status != "not_reachable" and low.places_filled is None
    assert low.minimum is not None and low.minimum.n_star > CAP


def test_only_the_central_search_pilots_count_not_its_accounts_batch(centrals):
    """Rows of the accounts batch (run at N* the scenario's full length) are not the search: a short
    accounts row does not make an end unreachable."""
    central = centrals[None]
    rows = central.rows
    accounts = rows.iloc[:3].assign(part="accounts", size=5000, participants=1000, reached=1000)
    central = replace(central, rows=pd.concat([rows.assign(part="search"), accounts], ignore_index=True))
    low = _ends(central)[0]
    assert low.status != "not_reachable" and low.places_filled is None


def _short_curve(a, filled: int):
    """`a` with a power table where the largest target (2,000) filled only `filled` places."""
    return replace(a, power_curve=(PowerPoint(800, 0.5, 0.05, 0.5, 0.02, 40, 800.0),
                                   PowerPoint(2000, 0.85, 0.04, 0.85, 0.01, 40, float(filled))))


BEYOND = {"en": "more than the area can fill (at most 1,200 places",
          "fi": "enemmän kuin alue pystyy täyttämään (enintään 1\u00a0200 paikkaa",
          "sv": "fler än området kan fylla (högst 1\u00a0200 platser"}


def _rollout_row(a, lang: str) -> str:
    (row,) = [v for k, v in _uncertainty_rows(a, lang) if k == text("n_rollout_size", lang)]
    return row.replace("\u202f", "\u00a0")


@pytest.mark.parametrize("lang", ["en", "fi", "sv"])
def test_a_rollout_size_beyond_the_places_filled_says_so(lang):
    """The roll-out needs 1,300 participants where at most 1,200 places filled: its row says so in the
    reader's language; at 1,100 (within them), where every target filled, or by offices, it does not."""
    a = _short_curve(size_fixture(), 1200)
    beyond = replace(a, rollout=replace(a.rollout, size=replace(a.rollout.size, size=1300)))
    assert BEYOND[lang] in _rollout_row(beyond, lang)
    within = replace(a, rollout=replace(a.rollout, size=replace(a.rollout.size, size=1100)))
    assert text("n_beyond_places", lang, cap="").split("(")[0] not in _rollout_row(within, lang)
    every = replace(_short_curve(size_fixture(), 2000), rollout=beyond.rollout)  # every target filled
    assert BEYOND[lang].split("(")[0] not in _rollout_row(every, lang)
    offices = replace(beyond, question=replace(beyond.question, by="offices"))
    assert BEYOND[lang].split("(")[0] not in _rollout_row(offices, lang)


def test_both_sizes_say_when_the_rollout_size_is_beyond_the_places():
    """Where the overstatement excludes 1 the verdict gives both sizes; a roll-out size beyond the places
    filled carries the same clause there."""
    a = _short_curve(size_fixture(), 1200)
    o = Overstatement(0.0178, 0.001, 0.0141, 0.001, 1.26, (1.05, 1.52), 40)
    beyond = replace(a, rollout=replace(a.rollout, overstatement=o, size=replace(a.rollout.size, size=1300)))
    (said,) = _both_sizes(beyond, "participants", "en")
    note = text("n_beyond_places", "en", cap="1,200")
    assert "1,300 participants" in said and said.index("1,300 participants") < said.index(note)
    assert said.endswith("The headline is the size for the pilot's estimate.")  # the note inside its sentence
    (said,) = _both_sizes(replace(beyond, rollout=replace(beyond.rollout, size=replace(a.rollout.size, size=1100))),
                          "participants", "en")
    assert "more than the area can fill" not in said


def test_the_precision_reached_is_written_with_a_plus_minus_sign():
    """Half the interval's width over N*: 1,000 (900-1,100) is ±10 %, in every language."""
    from labsim.report.i18n import percent

    for lang in ("en", "fi", "sv"):
        assert _reached(MinimumSize(1000.0, 900.0, 1100.0), lang) == "±" + percent(0.1, lang, 0)


@pytest.mark.parametrize("lang", ["en", "fi", "sv"])
def test_the_within_segment_share_has_a_name_in_each_language(lang):
    name = lever_name("market.segments.within_share", lang)
    assert name != "market.segments.within_share" and name == text("lever_market_segments_within_share", lang)
