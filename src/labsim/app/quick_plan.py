"""The page's plan view: a small `labsim plan` over the levers the planner picks, in a background process,
with progress and cancel.

The plan is `labsim.design.plan.plan` itself (probe, prune, the frontier's size searches), at settings that
answer within a few minutes on 2 cores: 5 probe pilots per candidate, at most 2 full searches in batches
of 10 pilots, each stopping at +-50 %. It runs in a child process of its own, as the page's size search
does (`SizeJob`: spawned, never forked; cancel ends it and its workers), in a temporary folder removed once
it has ended; the child sends back the typed answer (`Plan`, plan.json's), which the report layer words in the
page's language.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from labsim.app.quick_size import PilotDone, SearchDone, SearchFailed, SizeJob
from labsim.config.scenario import Scenario
from labsim.design.plan import LEVERS, PlanSettings, most_plan_pilots

if TYPE_CHECKING:
    from labsim.design.plan import Plan

#: The levers the page lets a planner compare (the treated share follows costs: its twin is probed).
PAGE_LEVERS = ("referral.mode", "payment.preset", "design.randomisation", "design.estimator")
#: Quick settings: 5 probe pilots per candidate, at most 2 searches of 3 batches of 10, stop at +-50 %.
QUICK_PLAN = {"probe": 5, "batch": 10, "budget": 30, "precision": 0.5, "frontier": 2}


def quick_plan_settings(scenario: Scenario, workers: int | None = None) -> PlanSettings:
    """The page's plan: the target assurance 80 % at the scenario's primary horizon, quick budget."""
    return PlanSettings(horizon=scenario.design.primary_horizon_weeks, workers=workers, **QUICK_PLAN)


def choices(path: str) -> tuple[str, ...]:
    """The values the page offers for a lever (the designs a small area can compare: person and office)."""
    return ("individual", "office") if path == "design.randomisation" else LEVERS[path] or ()


def own_values(scenario: Scenario) -> dict[str, list[str]]:
    """Each lever at the scenario's own value (a payment contract that is no preset: none picked)."""
    own = {"referral.mode": scenario.referral.mode, "payment.preset": scenario.payment.preset,
           "design.randomisation": scenario.design.randomisation, "design.estimator": scenario.design.estimator}
    return {p: [v] if v in choices(p) else [] for p, v in own.items()}


def plan_levers(picked: dict[str, list[str]]) -> dict[str, list[str]]:
    """The levers to compare: those with at least one value picked, in the page's order of values."""
    return {p: [v for v in choices(p) if v in picked.get(p, [])] for p in PAGE_LEVERS if picked.get(p)}


def _child(scenario: Scenario, levers: dict[str, list[str]], s: PlanSettings, folder: Path, conn) -> None:
    """The child process: run the plan in `folder`, send a `PilotDone` per pilot, then `SearchDone` with
    the typed answer (`Plan`) or `SearchFailed`."""
    from labsim.design.plan import plan

    try:
        conn.send(SearchDone(plan(scenario, levers, s, folder / "plan", on_pilot=lambda: conn.send(PilotDone())).answer()))
    except Exception as err:  # the page shows it; the server goes on
        conn.send(SearchFailed(f"{type(err).__name__}: {err}" if not str(err) else str(err)))
    finally:
        conn.close()


class PlanJob(SizeJob):
    """One plan in a child process, followed, cancelled and timed as the page's size search is."""

    def __init__(self, scenario: Scenario, levers: dict[str, list[str]], s: PlanSettings) -> None:
        s.check()
        if scenario.costs is None:
            from labsim.config.errors import LabsimError

            raise LabsimError(f"scenario {scenario.name}: no [costs] table; a plan needs the buyer's costs "
                              "(docs/plan.md)")
        self.folder = Path(tempfile.mkdtemp(prefix="labsim-app-plan-"))
        self._start(scenario, most_plan_pilots(levers, s), _child, (scenario, levers, s, self.folder))
        self.levers = levers
        self.answer: Plan | None = None

    def stop(self) -> None:
        """End the child process, then remove the plan's folder (finished or cancelled)."""
        super().stop()
        shutil.rmtree(self.folder, ignore_errors=True)
