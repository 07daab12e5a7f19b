"""How the purchaser pays providers: composable contract terms, named presets, and the fees they give.

A contract is built from terms a planner recognises: an attachment fee when a client starts, a progress
fee for a referral to training or a work trial, an outcome fee when a client starts work (graded by the
form of work; 0 for forms the contract does not count), and sustainment fees every few weeks the client
stays in that job, up to a horizon. Outcome-type fees can be differentiated by client group (weeks
unemployed at start, or a profiling tier). A scenario names a preset and may override any term.
`Contract` turns the resolved terms into fees for arrays of clients, and the value of a job start that
a provider weighs against the cost of effort (`provider.py`).
"""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from labsim.config.parts import Euro, NonNegInt, Part, PosInt, Share
from labsim.config.states import WORK_FORMS

GBP_TO_EUR = 1.20  # approximate 2011-13 average exchange rate, for the UK Work Programme preset

_SALARIED = ("permanent_full_time", "permanent_part_time", "temporary_full_time", "temporary_part_time")
_ALL_FORMS = {f: 1.0 for f in WORK_FORMS}
_GRADED = {  # permanent and full-time jobs pay most (as "Äkkilähtö työhön"); grades are assumptions
    "permanent_full_time": 1.0,
    "permanent_part_time": 0.75,
    "temporary_full_time": 0.75,
    "temporary_part_time": 0.5,
    "entrepreneurship": 1.0,
    "gig_work": 0.25,
    "light_entrepreneurship": 0.25,
}

class PaymentPreset(StrEnum):
    """The named payment models a scenario starts from (`payment.preset`); amounts in docs/payment.md."""

    FIXED_FEE = "fixed_fee"
    OUTCOME_ONLY = "outcome_only"
    HYBRID = "hybrid"
    DIFFERENTIAL = "differential"
    FI_2017_ELY = "fi_2017_ely"
    UK_WORK_PROGRAMME = "uk_work_programme"
    FR_PRIVATE_2007 = "fr_private_2007"


#: Named payment models; amounts and sources in docs/payment.md.
PRESETS: dict[PaymentPreset, dict[str, Any]] = {
    PaymentPreset.FIXED_FEE: {
        "service_norm": 0.5,
        "attachment_fee_eur": 1_000.0,
        "outcome": {"fee_eur": 0.0},
    },
    PaymentPreset.OUTCOME_ONLY: {
        "service_norm": 0.0,
        "outcome": {"fee_eur": 2_000.0, "forms": _ALL_FORMS},
    },
    PaymentPreset.HYBRID: {
        "service_norm": 0.25,
        "attachment_fee_eur": 600.0,
        "outcome": {"fee_eur": 1_200.0, "forms": _GRADED},
    },
    PaymentPreset.DIFFERENTIAL: {
        "service_norm": 0.0,
        "outcome": {"fee_eur": 2_000.0, "forms": _ALL_FORMS},
        "groups": {"by": "profiling", "multipliers": [0.6, 1.0, 1.8]},
    },
    PaymentPreset.FI_2017_ELY: {
        "service_norm": 0.0,
        "progress": {"fee_eur": 0.3 * 1_700.0},
        "outcome": {
            "fee_eur": 1_700.0,
            "forms": {
                "permanent_full_time": 1.0,
                "permanent_part_time": 1.0,
                "temporary_full_time": 0.5,
                "temporary_part_time": 0.5,
                "entrepreneurship": 0.5,
                "gig_work": 0.0,
                "light_entrepreneurship": 0.0,
            },
        },
    },
    PaymentPreset.UK_WORK_PROGRAMME: {
        "service_norm": 0.1,
        "attachment_fee_eur": 400.0 * GBP_TO_EUR,
        "outcome": {"fee_eur": 1_200.0 * GBP_TO_EUR, "after_weeks": 26, "forms": _ALL_FORMS},
        "sustainment": {"fee_eur": 170.0 * GBP_TO_EUR, "every_weeks": 4, "horizon_weeks": 104},
        "groups": {"by": "duration", "duration_cuts_weeks": [26, 52], "multipliers": [0.8, 1.0, 1.6]},
    },
    PaymentPreset.FR_PRIVATE_2007: {
        "service_norm": 0.25,
        "attachment_fee_eur": 0.3 * 3_500.0,
        "outcome": {"fee_eur": 0.35 * 3_500.0, "forms": {f: 1.0 for f in _SALARIED}},
        "sustainment": {"fee_eur": 0.35 * 3_500.0, "every_weeks": 26, "horizon_weeks": 26},
    },
}


class Progress(Part):
    """Fee for a client's referral to training or a work trial, paid once per client."""

    fee_eur: Euro = 0.0


class Outcome(Part):
    """Fee when a client starts work (or has stayed `after_weeks` in that job), graded by form of work."""

    fee_eur: Euro = 0.0
    after_weeks: NonNegInt = 0
    forms: dict[str, Annotated[float, Field(ge=0.0)]] = {f: 1.0 for f in _SALARIED}

    @field_validator("forms")
    @classmethod
    def _known_forms(cls, forms: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(forms) - set(WORK_FORMS))
        if unknown:
            raise ValueError(f"unknown work forms {unknown}; allowed: {list(WORK_FORMS)}")
        return {f: forms.get(f, 0.0) for f in WORK_FORMS}


class Sustainment(Part):
    """Fee every `every_weeks` the client stays in the job after the outcome, up to `horizon_weeks`."""

    fee_eur: Euro = 0.0
    every_weeks: PosInt = 4
    horizon_weeks: NonNegInt | None = None

    @model_validator(mode="after")
    def _horizon(self) -> Sustainment:
        if self.fee_eur > 0 and self.horizon_weeks is None:
            raise ValueError(
                "a sustainment fee needs horizon_weeks (weeks after the job start up to which it is paid)"
            )
        return self


class Groups(Part):
    """Differentiation: outcome, progress and sustainment fees multiplied by the client's group.

    Groups run from the easiest to the hardest: by weeks unemployed at start (`duration`, cut at
    `duration_cuts_weeks`) or by profiled employability at start (`profiling`: equal tiers of the
    register's unemployed at week 0, the most employable first). One multiplier per group.
    """

    by: Literal["none", "duration", "profiling"] = "none"
    multipliers: list[Annotated[float, Field(ge=0.0)]] = [1.0]
    duration_cuts_weeks: list[NonNegInt] = []

    @model_validator(mode="after")
    def _sizes(self) -> Groups:
        if not self.multipliers:
            raise ValueError("give at least one multiplier (one per group, the easiest group first)")
        if self.by == "none" and len(self.multipliers) != 1:
            raise ValueError("without groups (by = 'none') give exactly one multiplier")
        if self.by == "duration":
            cuts = self.duration_cuts_weeks
            if len(cuts) != len(self.multipliers) - 1 or cuts != sorted(set(cuts)):
                raise ValueError(
                    "duration groups need increasing duration_cuts_weeks, one fewer than multipliers"
                )
        return self


class Payment(Part):
    """The payment model: a preset (see `PRESETS`) with any term overridden."""

    preset: Annotated[PaymentPreset, Field(strict=False)] = PaymentPreset.HYBRID
    service_norm: Share = 0.0
    attachment_fee_eur: Euro = 0.0
    progress: Progress = Progress()
    outcome: Outcome = Outcome()
    sustainment: Sustainment = Sustainment()
    groups: Groups = Groups()

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any) -> Any:
        """Start from the named preset and lay the scenario's own terms over it."""
        if not isinstance(data, dict):
            return data
        name = data.get("preset", PaymentPreset.HYBRID)
        if not isinstance(name, str) or name not in PRESETS:
            return data  # the field check names the allowed presets
        return _merge(PRESETS[name], data)

    @field_validator("preset", mode="before")
    @classmethod
    def _known_preset(cls, name: Any) -> Any:
        if name not in PRESETS:
            raise ValueError(f"unknown payment preset {name!r}; allowed: {sorted(map(str, PRESETS))}")
        return name


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        # a contract's `forms` list replaces the preset's: unlisted forms of work pay nothing
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "forms":
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
