"""docs/validation.md is current (its inputs' hash is that of the bundled scenario and targets), and the
table keeps a claim that does not match."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

from labsim.config.scenario import read_scenario_dict
from labsim.design.claim import Claim
from labsim.design.validation import Validation, inputs_hash
from labsim.report.validation import html, markdown

ROOT = Path(__file__).resolve().parents[1]


def test_docs_validation_md_is_current():
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    made = re.search(r"scenario `(\w+)`, (\d+) replications per setting, seed (\d+)\. Inputs' hash: `(\w+)`", text)
    assert made, "docs/validation.md was not made by `labsim validation --markdown docs/validation.md`"
    name, reps, seed, recorded = made.groups()
    targets = [ROOT / "targets" / "finland_labour_market.toml", ROOT / "targets" / "provider_effects.toml"]
    scenarios = {n: read_scenario_dict(ROOT / "scenarios" / f"{n}.toml")
                 for n in (name, "slack_market", "fi_2016_job_placement_pilots")}
    now = inputs_hash(scenarios, targets, int(reps), int(seed))
    assert now == recorded, ("the bundled scenarios, targets or the claims' settings changed since "
                             "docs/validation.md was made: regenerate it with `labsim validation --markdown "
                             "docs/validation.md --replications 4 --workers 2`")
    assert "Not yet simulated" not in text
    assert {int(n) for n in re.findall(r"^\| (\d) \|", text, re.M)} == set(range(1, 9))  # every claim of issue 14


CLAIMS = (
    Claim(1, "long_term_share", "Statistics Finland", 0.307, 0.26, 0.34, 0.29, 0.28, 0.30, True, False, 0.04, "match"),
    Claim(8, "crepon_2013_itt", "QJE | 128(2)", 0.025, 0.0, 0.05, 0.07, 0.06, 0.08, False, True, 0.025, "no match"),
)
ANSWER = Validation("baseline", 2, 1, "abc", CLAIMS)


def test_a_claim_that_does_not_match_stays_in_every_language():
    md = markdown(ANSWER)
    row = next(line for line in md.splitlines() if "crepon_2013_itt" in line)
    assert "does not match" in row and "unverified" in row and "QJE / 128(2)" in row
    assert ("| 1 | Long-term unemployed share (12 months or more) (long_term_share) | 0.307 (0.260 - 0.340) | "
            "0.290 (0.280 - 0.300) | matches |") in md
    for lang, no in (("en", "does not match"), ("fi", "ei vastaa"), ("sv", "stämmer inte")):
        page = html(ANSWER, lang)
        assert f'<td class="no">{no}</td>' in page and f'lang="{lang}"' in page


def test_one_sided_and_point_claims_and_named_figures_in_each_language():
    """A claim below a bound (validation.json writes -inf as null: it reads back open), a point claim (the
    ratio 1 of claim 3), and a figure with a text in the locales, named in the reader's language."""
    below = replace(CLAIMS[0], claim=4, name="spillover_slack_minus_tight", published=0.0, low=-math.inf, high=0.0,
                    simulated=0.01, simulated_low=-0.01, simulated_high=0.03, matches=False)
    point = replace(CLAIMS[0], claim=3, name="itt_over_take_up_times_effect_on_participants", published=1.0,
                    low=1.0, high=1.0, simulated=1.2, simulated_low=0.8, simulated_high=math.inf)
    answer = Validation.from_json(json.loads(json.dumps(replace(ANSWER, claims=(below, point)).to_json())))
    assert answer.claims == (below, point)  # the open ends read back as they were made
    md = markdown(answer)
    assert "| 4 | That effect in a slack minus a tight market (spillover_slack_minus_tight) | < 0.000 |" in md
    assert "| 1.00 | 1.20 (> 0.800) | matches |" in md
    assert "Sama vaikutus heikolla miinus kireällä työmarkkinalla" in html(answer, "fi")
    assert "Samma effekt på en svag minus en stram arbetsmarknad" in html(answer, "sv")


def test_a_ratio_without_a_finite_interval_says_so_in_each_language():
    """Fieller's set for a ratio whose denominator cannot be told from 0 is no interval (its ends are
    None, read as NaN): the table says so in words, not "1.67 (- - -)" as docs/validation.md printed
    claim 3 on 2026-12-06."""
    ratio = replace(CLAIMS[0], claim=3, name="itt_over_take_up_times_effect_on_participants", published=1.0,
                    low=1.0, high=1.0, simulated=1.67, simulated_low=math.nan, simulated_high=math.nan,
                    matches=False)
    answer = replace(ANSWER, claims=(ratio,))
    assert "| 1.67 (no finite interval) |" in markdown(answer) and "- - -" not in markdown(answer)
    again = Validation.from_json(json.loads(json.dumps(answer.to_json())))  # as validation.json holds it
    assert markdown(again) == markdown(answer)
    assert "ei äärellistä väliä" in html(answer, "fi") and "inget ändligt intervall" in html(answer, "sv")


def test_every_figure_of_the_validation_is_named_in_the_planners_languages():
    """Each figure of docs/validation.md has its words (`vn_<name>`; test_present checks fi and sv have
    every key en has), so a Finnish or Swedish page never shows a bare variable name."""
    from labsim.report.i18n import has

    table = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    figures = re.findall(r"^\| \d \| ([^|]*) \|", table, re.M)
    named = [re.search(r"\((\w+)\)( \(unverified\))?$", f.strip()) for f in figures]
    assert figures and all(named), [f for f, n in zip(figures, named) if not n]
    assert all(has(f"vn_{n.group(1)}") for n in named)
