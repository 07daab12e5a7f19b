"""Building blocks of the scenario schema, shared by `scenario.py` and `payment.py`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]  # a weekly probability
PosInt = Annotated[int, Field(ge=1)]
NonNegInt = Annotated[int, Field(ge=0)]
Euro = Annotated[float, Field(ge=0.0)]


class Part(BaseModel):
    """Base of every scenario section: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
