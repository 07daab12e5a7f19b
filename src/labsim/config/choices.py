"""The names a scenario chooses between: referral modes, evaluation designs and the terms a purchaser pays.

Kept apart from the scenario's schema (config/scenario.py, config/payment.py) so that what only reads
saved results (charts, reports, result tables) can name them without importing the schema's validation.
"""

from __future__ import annotations

from enum import StrEnum


class ReferralMode(StrEnum):
    """Who decides whether a referred job seeker takes part: the seeker (`voluntary`: an offer that may be
    declined) or the office (`mandatory`: the referral is binding, with a sanction for not showing up)."""

    VOLUNTARY = "voluntary"
    MANDATORY = "mandatory"


class Randomisation(StrEnum):
    """The evaluation design: what is randomised to the pilot arm (see `Design`)."""

    INDIVIDUAL = "individual"
    OFFICE = "office"
    SATURATION = "saturation"
    AREA = "area"


#: The terms a purchaser pays, in the order the accounts report them.
TERMS: tuple[str, ...] = ("attachment", "progress", "outcome", "sustainment")
