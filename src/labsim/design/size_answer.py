"""The size job's typed answer (size.json) and its parts, apart from the search that finds them.

`SizeAnswer` and every part it holds (the reference batch, N*, the formula's size, the type-I check, the
power by size, the evidence, the roll-out, the accounts) are frozen dataclasses here, with nothing heavier
than the standard library: reading a size folder for its charts or report (report/saved.py) imports
neither scipy, statsmodels nor the simulated world, which the search (design/size.py, evidence.py,
rollout.py, size_job.py) needs. Those modules make these objects; docs/formats.md publishes the file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, ClassVar

from labsim.results.answer_file import AnswerFile, plain

#: size.json's format; a file without it, or with another, is refused with a clear message.
SCHEMA = "labsim.size/2"


@dataclass(frozen=True)
class Reference:
    """What the reference batch at the scenario's own size says, and the formula's size from it."""

    size: int
    control_rate: float
    itt: float
    itt_se: float
    take_up: float
    late: float
    n_pilot: float
    n_control: float
    design_effect: float
    icc: float
    analytic_size: float
    analytic_size_range: tuple[float, float]  # the formula's size over the ITT's 95 % interval

    def analytic_power(self, size: float, alpha: float, cdf: Callable[[Any], Any] | None = None) -> float:
        """The two-proportion power at another size (arms and design effect scaled with it); `cdf` as
        `analytic.two_proportion_power`'s (a chart's, without statsmodels)."""
        return analytic_power(vars(self), size, alpha, cdf)


def analytic_power(ref: dict[str, Any], size: float, alpha: float, cdf: Callable[[Any], Any] | None = None) -> float:
    """A reference's two-proportion power at another size, from its fields (also as saved in size.json)."""
    from labsim.design.analytic import two_proportion_power

    scale = size / ref["size"] / ref["design_effect"]
    return two_proportion_power(ref["control_rate"], ref["itt"], ref["n_pilot"] * scale, ref["n_control"] * scale,
                                alpha, cdf)


@dataclass(frozen=True)
class MinimumSize:
    """N*, where the fitted power equals the target, and its 95 % interval (upper end inf if open)."""

    n_star: float
    low: float
    high: float

    def within(self, precision: float) -> bool:
        return math.isfinite(self.high) and (self.high - self.low) / 2 <= precision * self.n_star

    def as_size(self) -> int:
        return math.ceil(self.n_star)

    def ci(self) -> list[int | None]:
        return [math.floor(self.low), math.ceil(self.high) if math.isfinite(self.high) else None]


@dataclass(frozen=True)
class FittedCurve:
    """The fitted power curve N* was read from, at the scenario's own values: eta(N) = a + b sqrt(N), the
    mean z where every pilot tested its z against the normal critical value `c` (`kind` "z": power
    two-sided with spread `sigma`), else the probit index (`kind` "probit": power Phi(eta)). `pilots`: the
    pilots it was fitted to; `joint`: True when the evidence's pilots were among them (the joint fit read at
    the scenario's values, design/evidence.py), False for the central search's own fit; `agreement`: for a
    joint curve, the z of the joint pilots' level against the central pilots' at the scenario's values
    (read from the joint fit only within +-1.96)."""

    kind: str
    a: float
    b: float
    sigma: float
    c: float
    pilots: int
    joint: bool
    agreement: float | None = None

    def power(self, size: float) -> float:
        """The fitted power at one size (the chart's curve, with the standard library's normal CDF)."""
        eta, cdf = self.a + self.b * math.sqrt(max(size, 0.0)), NormalDist().cdf
        if self.kind == "z":
            return cdf((eta - self.c) / self.sigma) + cdf((-eta - self.c) / self.sigma)
        return cdf(eta)


@dataclass(frozen=True)
class AnalyticSize:
    """The two-sample formula's size from the pilots the search ran nearest N* (`pilots` of them, at mean
    size `near` on the lever, `reached` places filled): their pooled effect `effect` (its SE `effect_se`
    over pilots) and their mean standard error `spread`. With a normal test the SE falls as 1/sqrt(N), so
    N = reached x ((z_{1-alpha/2} + z_power) spread / effect)^2; `ci` maps the effect's 95 % interval.
    Measured where the answer lies, not at the scenario's own size: effect and spread there are what the
    simulation itself sees (docs/evaluation.md, "The analytic size")."""

    size: float
    ci: tuple[float, float]
    effect: float
    effect_se: float
    spread: float
    near: float
    reached: float
    pilots: int

    def power(self, places: float, alpha: float) -> float:
        """The formula's power at `places` filled: the pooled effect over its SE, which falls as 1/sqrt(places)
        from the spread at the places these pilots filled (two-sided normal test at `alpha`)."""
        normal = NormalDist()  # the standard library's: a chart drawing this needs no scipy
        d = abs(self.effect) / (self.spread * math.sqrt(self.reached / max(places, 1.0)))
        z = normal.inv_cdf(1 - alpha / 2)
        return normal.cdf(d - z) + normal.cdf(-d - z)

    def usable(self) -> bool:
        """Whether the formula can be drawn: a finite size from a non-zero effect with a spread."""
        return math.isfinite(self.size) and self.spread > 0 and self.effect != 0 and self.reached > 0


@dataclass(frozen=True)
class PlaceboCheck:
    """The design's test on a placebo split of each search pilot's control arm (individual design:
    `labsim.results.inference.placebo_test`): its rejection rate over the search's pilots, at no extra
    simulation, with its exact 95 % interval."""

    rate: float
    se: float
    ci: tuple[float, float]
    sims: int


@dataclass(frozen=True)
class TypeICheck:
    """The rejection rate with no effect (zero-help pilots at N*), with its exact (Clopper-Pearson) 95 %
    interval, and for the individual design the placebo check over every pilot of the search."""

    size: int
    rate: float
    se: float
    ci: tuple[float, float]
    sims: int
    placebo: PlaceboCheck | None = None

    def too_high(self, alpha: float) -> bool:
        """Whether either check rejects clearly more often than `alpha` (its interval lies above it)."""
        return self.ci[0] > alpha or (self.placebo is not None and self.placebo.ci[0] > alpha)


@dataclass(frozen=True)
class PowerPoint:
    """The simulated power at one size tried, with the formula's power (at the places filled) beside it."""

    size: int
    power: float
    power_se: float
    analytic_power: float | None
    mean_se: float
    sims: int
    reached: float  # the mean size the pilots reached: the places filled, when places are the lever


@dataclass(frozen=True)
class Unreachable:
    """Why no size reached the target power: the largest size tried, the best power seen there, and what
    stands in the way (size.json `not_reachable`; the report words it in each language)."""

    largest: int
    best_power: float
    best_power_se: float
    places_filled: float | None  # the catchment fills only this many places: a larger target adds nobody
    no_effect: bool  # the reference batch's effect is not distinguishable from zero

    def sentence(self, by: str, power: float) -> str:
        """The reason in English, for size.json's `message` and the command line."""
        message = (f"no pilot up to {by} = {self.largest:,} reached power {power:.0%} "
                   f"(highest simulated: {self.best_power:.0%} +- {self.best_power_se:.0%})")
        if self.places_filled is not None:
            message += (f"; the catchment fills only about {self.places_filled:,.0f} places in the intake window, "
                        "so a larger target adds nobody: more eligible job seekers (a larger area) or a longer "
                        "intake are needed (try --by intake-weeks)")
        elif self.no_effect:
            message += "; the pilot's effect is not distinguishable from zero in this world"
        return message


@dataclass(frozen=True)
class SizeAtValue:
    """The minimum size with one assumption at one value (the others at their central values)."""

    path: str
    value: float
    minimum: MinimumSize | None
    status: str
    sims: int
    largest: int = 0  # the largest size its search tried, or the places the catchment fills if fewer
    places_filled: float | None = None  # not reachable because the catchment fills no more places than this
    itt: float | None = None  # the pilot's effect (ITT) with the assumption at this value: what the value means


@dataclass(frozen=True)
class AssurancePoint:
    """The assurance at one size tried: the share of its batch that rejected (raw), and the joint fit's
    assurance there with its 95 % interval."""

    size: int
    assurance: float
    assurance_se: float
    fitted: float | None = None
    fitted_low: float | None = None
    fitted_high: float | None = None


@dataclass(frozen=True)
class Influence:
    """How much one assumption moves the answer, from the joint fit: its share of the spread of the pilot's
    expected z across the evidence (with its 95 % interval over the fit's coefficient draws), and the size for the target assurance were its range half as wide
    around the scenario's value (with the 95 % interval of the saving against the size over the full ranges)."""

    path: str
    share: float
    share_ci: tuple[float, float]
    halved_low: float
    halved_high: float
    size_if_halved: float | None
    saving: float | None
    saving_ci: tuple[float, float] | None
    distinguishable: bool = True  # its coefficient's 95 % interval excludes 0 (else its share may be noise)


@dataclass(frozen=True)
class Overstatement:
    """ITT against the roll-out effect over paired worlds: means, SEs, their ratio and its interval."""

    itt: float
    itt_se: float
    rollout: float
    rollout_se: float
    ratio: float
    ratio_ci: tuple[float | None, float | None]
    worlds: int

    def as_dict(self) -> dict:
        return {"itt": self.itt, "itt_se": self.itt_se, "rollout": self.rollout, "rollout_se": self.rollout_se,
                "ratio": self.ratio, "ratio_ci": list(self.ratio_ci), "worlds": self.worlds}


@dataclass(frozen=True)
class RolloutPower:
    """The power to detect the roll-out effect at one size tried, from the pilots' mean SE there."""

    size: int
    mean_se: float
    power: float


@dataclass(frozen=True)
class RolloutSize:
    """The size to detect the roll-out effect (None where none does) with its 95 % interval, the same
    formula's size for the pilot's ITT, the fitted SE exponent b and the power by size tried."""

    size: int | None
    size_ci: tuple[int | None, int | None]
    itt_size_formula: int | None
    se_exponent: float | None
    power_curve: tuple[RolloutPower, ...]


@dataclass(frozen=True)
class Rollout:
    """The size answer's roll-out part: the overstatement over the reference batch's worlds, the size to
    detect the roll-out effect, and the simulations it took (a no-pilot and a roll-out run per world)."""

    overstatement: Overstatement
    size: RolloutSize
    sims: int

    def differs(self) -> bool:
        """Whether the pilot's estimate and the roll-out effect are distinguishable: the overstatement's
        95 % interval excludes 1 (then the answer gives the size for each)."""
        lo, hi = self.overstatement.ratio_ci
        return lo is not None and hi is not None and not lo <= 1 <= hi


@dataclass(frozen=True)
class Question:
    """What was asked, in the answer: the lever, the targets, the precision asked, the design and the
    estimand; `planned` is the scenario's own size on the lever (the places bought) and `start` says where
    the search had to start instead of the scenario's own size (empty when it did not)."""

    scenario: str
    by: str
    target_power: float
    alpha: float
    horizon_weeks: int
    precision: float
    batch: int
    budget: int
    type_i_sims: int
    seed: int
    design: str
    referral_mode: str
    estimand: str
    target_assurance: float
    planned: int
    start: str = ""
    test: str = ""  # the design's test every pilot was judged by: hc2 or randomisation


@dataclass(frozen=True)
class Accounts:
    """Volumes, costs and the providers' break-even at `size` (the accounts batch at N*, run the scenario's
    full length; the largest size tried when no size was found, where the search's figures alone exist)."""

    size: int
    pilots: int
    eligible_needed: int | None
    intake_weeks_needed: float | None
    intake_filled_share: float
    participants: float
    break_even_clients: float | None
    providers_viable_share: float | None
    purchaser_paid: float | None
    paid_per_participant: float | None
    cost_per_extra_job: float | None


@dataclass(frozen=True)
class Evidence:
    """The answer over the joint evidence (design/evidence.py): the size at each end of each assumption's
    range, the assurance by size tried (batch rate and fitted), the size that reaches the target assurance
    (with its interval; None where none within reach does), each assumption's share of the spread (largest
    first) and the one to pin down first, all from the same pilots."""

    by_assumption: tuple[SizeAtValue, ...]
    assurance_curve: tuple[AssurancePoint, ...]
    target: float
    size_for_assurance: MinimumSize | None
    sims: int
    fit: str | None = None
    influence: tuple[Influence, ...] = ()
    pin_down_first: str | None = None


@dataclass(frozen=True)
class Headline:
    """The effect the headline sizes for, named once: the estimand, its effect and the size for it."""

    estimand: str
    effect: float
    size: int | None
    size_ci: tuple[int | None, int | None]


@dataclass(frozen=True)
class Verdict:
    """Whether the places planned are enough (`green`), and if not what stands in the way (`reasons`,
    codes the report words: precision, interval, evidence, type_i, not_reachable) and the size needed."""

    green: bool
    needed: int | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SizeAnswer(AnswerFile):
    """The planner's answer to "how large must the pilot be?" (size.json): the central search's N* and
    its parts, the evidence, the roll-out, the type-I check and the accounts at N*."""

    FORMAT: ClassVar[str] = SCHEMA
    FILE: ClassVar[str] = "size.json"
    COMMAND: ClassVar[str] = "size"
    #: fields where null reads back as infinity: an open end (no size reaches it), not a missing figure
    OPEN_ENDS: ClassVar[frozenset[str]] = frozenset({"MinimumSize.high", "Reference.analytic_size",
                                                     "Reference.analytic_size_range", "AnalyticSize.size",
                                                     "AnalyticSize.ci"})

    question: Question
    status: str  # found, not_reachable or budget
    message: str
    fit: str
    minimum: MinimumSize | None
    reference: Reference
    analytic: AnalyticSize | None
    power_curve: tuple[PowerPoint, ...]
    unreachable: Unreachable | None
    type_i: TypeICheck | None
    accounts: Accounts
    evidence: Evidence | None
    rollout: Rollout
    sims_total: int
    seconds: float
    curve: FittedCurve | None = None  # the curve N* was read from (size folders before 2026-12-07: none)

    @property
    def minimum_size(self) -> int | None:
        return self.minimum.as_size() if self.minimum else None

    @property
    def minimum_size_ci(self) -> list[int | None] | None:
        return self.minimum.ci() if self.minimum else None

    def headline(self) -> Headline:
        """The size for the estimand asked: N* for the pilot's ITT, the roll-out size for the roll-out."""
        if self.question.estimand == "rollout":
            r = self.rollout.size
            return Headline("rollout", self.rollout.overstatement.rollout, r.size, r.size_ci)
        ci = self.minimum_size_ci or [None, None]
        return Headline("itt", self.reference.itt, self.minimum_size, (ci[0], ci[1]))

    def verdict(self) -> Verdict:
        """Green only when the search met its precision, the places planned cover N*'s whole interval
        (and the headline's, if it sizes for the roll-out), and the assurance size's (across the evidence),
        and the type-I check is not clearly above alpha; `needed` is then the largest of those upper ends."""
        q, reasons, needed = self.question, [], []
        head = self.headline()
        if head.size is None:
            return Verdict(False, None, ("not_reachable",))
        if self.status != "found":
            reasons.append("precision")
        ends = [head.size_ci[1], self.minimum_size_ci[1] if self.minimum_size_ci else None]
        if any(e is None for e in ends) or q.planned < max(ends):
            reasons.append("interval")
            needed += [e for e in ends if e is not None]
        if self.evidence is not None:
            found = self.evidence.size_for_assurance
            if found is None or not math.isfinite(found.high) or q.planned < math.ceil(found.high):
                reasons.append("evidence")
                if found is not None and math.isfinite(found.high):
                    needed.append(math.ceil(found.high))
        if self.type_i is not None and self.type_i.too_high(q.alpha):
            reasons.append("type_i")
        return Verdict(not reasons, max(needed) if needed else head.size, tuple(reasons))

    def to_json(self) -> dict[str, Any]:
        """size.json: the parts as nested objects, then the minimum size, headline and verdict they give."""
        return {**super().to_json(), "minimum_size": self.minimum_size,
                "headline": plain(self.headline()), "verdict": plain(self.verdict())}
