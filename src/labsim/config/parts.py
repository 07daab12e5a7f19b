"""Building blocks of the scenario schema, shared by `scenario.py` and `payment.py`.

Every section is strict: a whole number must be written as one (`weeks = true` or `weeks = 2.5` is an
error, not 1 or 2), numbers must be finite (no `nan` or `inf`), and sizes have ceilings that keep one
run within a 24 GB machine ("Limits" in docs/model.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

#: The largest count or number of weeks any field may hold (well inside numpy's 64-bit integers).
MAX_COUNT = 10_000_000
#: Job seekers a run may follow: about 0.6 KB each, plus 17 bytes per seeker and pilot week.
MAX_JOB_SEEKERS = 1_000_000
#: Pilot weeks a run may simulate (10 years); with MAX_JOB_SEEKERS a run peaks near 10 GB.
MAX_WEEKS = 520
#: Burn-in weeks (20 years): they cost time, not memory.
MAX_BURN_IN_WEEKS = 1_040
#: Agents stepped one by one in Python each week (offices, providers, employers of one sector).
MAX_OFFICES = 1_000
MAX_PROVIDERS = 1_000
MAX_EMPLOYERS_PER_SECTOR = 100_000
MAX_SECTORS = 100
#: New vacancies a week per 100 seekers of a sector (numpy cannot draw Poisson counts beyond ~1e18).
MAX_VACANCIES_PER_100_SEEKERS = 1_000
LIMITS_DOC = "see 'Limits' in docs/model.md"

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]  # a weekly probability
PosInt = Annotated[int, Field(ge=1, le=MAX_COUNT)]
NonNegInt = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Seed = Annotated[int, Field(ge=0, lt=2**63)]  # a root seed: any whole number numpy accepts, no size ceiling
Euro = Annotated[float, Field(ge=0.0)]


def at_most(value: Any, ceiling: int, why: str) -> Any:
    """`value` unless it is a number (or list) above `ceiling`: then a ValueError saying the ceiling and why.

    Meant for `mode="before"` validators, so that this message, not the generic MAX_COUNT one, is
    what a planner sees; the field's own type check still runs afterwards.
    """
    size = len(value) if isinstance(value, list) else value
    if isinstance(size, int | float) and size > ceiling:
        raise ValueError(f"must be at most {ceiling:,} ({why}; {LIMITS_DOC})")
    return value


class Part(BaseModel):
    """Base of every scenario section: unknown fields are errors, values are immutable, types strict
    (no bool for a number, no text for a number, no 2.0 for a whole number), numbers finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
