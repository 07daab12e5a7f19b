"""Zero help gives zero effect: with providers doing nothing, the pilot arm fares as the control arm.

Every channel through which the pilot could act is switched off (provider effort 0, no no-shows, no
sanction effect, no employer network, congestion off so that nobody's search affects anybody else,
mandatory referral so that everyone in the pilot arm becomes a client); what is left is any asymmetry
in how the world treats clients and controls (leaving the register, activation, clocks...). The
pilot-control difference in employment 26 weeks after assignment must then be 0 within 2 standard
errors. The estimate is pooled over seeds (mean of the per-seed differences) and its standard error is
the across-seed standard deviation / sqrt(seeds), so it does not lean on the per-run SE formula.
With clients unable to leave the register or start activation (the code before issue 7), the fast
test gave +3.8 pp (SE 0.7 pp, 24 seeds) and failed. It now pools 80 seeds (SE about 0.3 pp, so an
artefact of 1 pp is caught) and gives +0.40 pp (SE 0.29 pp).
"""

from __future__ import annotations

import numpy as np
import pytest

from labsim.results.summary import results_of
from labsim.world.model import PilotModel

from conftest import small_scenario

ZERO_HELP = [
    "referral.mode=mandatory", "providers.effort=0", "referral.no_show=0",
    "referral.sanction_effort_gain=0", "providers.network_share=0", "market.congestion=false",
    "referral.target_participants=100000", "providers.capacity=100000", "pilot.end_week=200",
]


def pooled_difference(seekers: int, seeds: range, weeks: int) -> tuple[float, float]:
    diffs = []
    for seed in seeds:
        sc = small_scenario(*ZERO_HELP, f"area.job_seekers={seekers}", f"weeks={weeks}",
                            f"referral.intake_weeks={weeks - 26}")
        m = PilotModel(sc, rng=seed)
        m.run_for(sc.weeks)
        diffs.append(results_of(m).summary.employment_rate["26w"].difference)
    d = np.array(diffs)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


def test_zero_help_gives_zero_effect():
    diff, se = pooled_difference(3000, range(80), 60)
    assert abs(diff) < 2 * se, f"zero help moved employment by {diff:+.4f} (SE {se:.4f})"


@pytest.mark.slow
def test_zero_help_gives_zero_effect_in_a_large_world():
    diff, se = pooled_difference(40_000, range(10), 104)
    assert abs(diff) < 2 * se, f"zero help moved employment by {diff:+.4f} (SE {se:.4f})"
