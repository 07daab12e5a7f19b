"""What a pilot costs the buyer beyond what it pays providers: the scenario's `[costs]` table.

The buyer's payments to providers are not an item here: they come from the simulated payment model
(`purchaser_paid` of each pilot). The table adds what the simulation cannot know: a cost per TE office
and per employment area taking part (coordination, training counsellors, referral work), and the
evaluation's cost, fixed (design, analysis, report) plus per person in the evaluation (register data for
everyone randomised, pilot and control arm alike). Each item carries its source, or says "assumption",
so that a plan's price says where it comes from (docs/plan.md compares the totals with the Finnish
pilots' budgets in FACTS.md: 1 M EUR for 1,500 participants in Uusimaa, at most 1,700 EUR per person
employed in the ELY-bought service).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from labsim.config.parts import Euro, Part


class CostItem(Part):
    """One cost: its value in euros and where it comes from (a source, or "assumption: why")."""

    value: Euro
    source: Annotated[str, Field(min_length=1)]


class Costs(Part):
    """The buyer's costs besides the providers' fees (simulated): per office and per area taking part,
    and the evaluation's fixed cost and cost per person randomised."""

    per_office: CostItem
    per_area: CostItem
    evaluation_fixed: CostItem
    evaluation_per_person: CostItem

    def fixed(self, offices: int, areas: int = 1) -> float:
        """What the pilot costs whatever its size: its offices, its areas and the evaluation's fixed part."""
        return offices * self.per_office.value + areas * self.per_area.value + self.evaluation_fixed.value

    def total(self, paid: float, offices: int, people: float, areas: int = 1) -> float:
        """The buyer's whole cost: providers' fees `paid` (simulated), the fixed costs and the evaluation's
        register data for `people` randomised (both arms)."""
        return paid + self.fixed(offices, areas) + people * self.evaluation_per_person.value
