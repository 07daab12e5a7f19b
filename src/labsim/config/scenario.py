"""Scenario files: the schema of a pilot world, loading, overrides and clear errors.

A scenario is a TOML file that describes one world (area, people, labour market, TE offices) and one
pilot in it (referral rule, design, providers, payment). The schema below is the single source of
truth for what a scenario may say; every field has a default a planner can start from, so a scenario
file only states what differs. Objects here hold parameters only; nothing is computed from them.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from labsim.config.assumptions import Assumption, number_at
from labsim.config.choices import Randomisation, ReferralMode
from labsim.config.costs import Costs
from labsim.config.errors import ScenarioError
from labsim.config.parts import (
    MAX_BURN_IN_WEEKS,
    MAX_EMPLOYERS_PER_SECTOR,
    MAX_JOB_SEEKERS,
    MAX_OFFICES,
    MAX_PROVIDERS,
    MAX_SECTORS,
    MAX_VACANCIES_PER_100_SEEKERS,
    MAX_WEEKS,
    Euro,
    NonNegInt,
    Part,
    PosInt,
    Rate,
    Share,
    at_most,
)
from labsim.config.payment import Payment
from labsim.config.states import AGE_GROUPS, EDUCATION_LEVELS, WORK_FORMS


def _check_shares(shares: dict[str, float], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(shares) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {list(allowed)}")
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{what} shares must sum to 1 (they sum to {total:.4f})")


def _check_shifts(shifts: dict[str, float], allowed: tuple[str, ...], what: str) -> dict[str, float]:
    """One log-employability shift per group, every group named."""
    if set(shifts) != set(allowed):
        raise ValueError(f"give one shift for each of the {what} {list(allowed)} (got {sorted(shifts)})")
    return {k: shifts[k] for k in allowed}


class Area(Part):
    """The employment area: how many people the model follows and how its offices are staffed."""

    job_seekers: PosInt = 12_000
    offices: PosInt = 4
    caseload_per_counsellor: PosInt = 120
    burn_in_weeks: NonNegInt = 52
    office_spread: Annotated[float, Field(ge=0.0, le=2.0)] = 0.3

    @field_validator("job_seekers", mode="before")
    @classmethod
    def _seekers_fit(cls, n: Any) -> Any:
        return at_most(n, MAX_JOB_SEEKERS, "a run needs about 0.6 KB per seeker and 17 bytes per seeker and pilot week")

    @field_validator("burn_in_weeks", mode="before")
    @classmethod
    def _burn_in_fits(cls, weeks: Any) -> Any:
        return at_most(weeks, MAX_BURN_IN_WEEKS, "20 years settle any world; more only takes time")

    @field_validator("offices", mode="before")
    @classmethod
    def _offices_fit(cls, n: Any) -> Any:
        return at_most(n, MAX_OFFICES, "offices are stepped one by one every week")


class Population(Part):
    """Who the job seekers are: composition at the start and for spells that begin later."""

    age_shares: dict[str, Share] = {"under_25": 0.2, "age_25_54": 0.6, "over_55": 0.2}
    education_shares: dict[str, Share] = {"basic": 0.3, "secondary": 0.45, "tertiary": 0.25}
    age_employability: dict[str, Annotated[float, Field(ge=-5.0, le=5.0)]] = {
        "under_25": 0.0, "age_25_54": 0.1, "over_55": -0.35}
    education_employability: dict[str, Annotated[float, Field(ge=-5.0, le=5.0)]] = {
        "basic": -0.3, "secondary": 0.0, "tertiary": 0.25}
    employability_sd: Annotated[float, Field(ge=0.0, le=3.0)] = 0.4
    employability_decay_per_year: Annotated[float, Field(ge=0.0, le=5.0)] = 0.6
    employability_floor: Annotated[float, Field(gt=0.0, le=1.0)] = 0.15
    motivation_mean: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    motivation_concentration: Annotated[float, Field(gt=0.0)] = 4.0
    base_search_effort: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5
    earnings_related_benefit_share: Share = 0.6

    @field_validator("age_shares")
    @classmethod
    def _ages(cls, shares: dict[str, float]) -> dict[str, float]:
        _check_shares(shares, AGE_GROUPS, "age groups")
        return shares

    @field_validator("education_shares")
    @classmethod
    def _education(cls, shares: dict[str, float]) -> dict[str, float]:
        _check_shares(shares, EDUCATION_LEVELS, "education levels")
        return shares

    @field_validator("age_employability")
    @classmethod
    def _age_shifts(cls, shifts: dict[str, float]) -> dict[str, float]:
        return _check_shifts(shifts, AGE_GROUPS, "age groups")

    @field_validator("education_employability")
    @classmethod
    def _education_shifts(cls, shifts: dict[str, float]) -> dict[str, float]:
        return _check_shifts(shifts, EDUCATION_LEVELS, "education levels")


class Sector(Part):
    """One sector of the labour market: its share of seekers and how much it hires."""

    name: Annotated[str, Field(min_length=1)]
    seeker_share: Share
    vacancies_per_100_seekers: Annotated[float, Field(gt=0.0)] = 1.76
    employers: PosInt = 20

    @field_validator("vacancies_per_100_seekers", mode="before")
    @classmethod
    def _vacancies_fit(cls, v: Any) -> Any:
        return at_most(v, MAX_VACANCIES_PER_100_SEEKERS, "new vacancies a week, per 100 seekers")

    @field_validator("employers", mode="before")
    @classmethod
    def _employers_fit(cls, n: Any) -> Any:
        return at_most(n, MAX_EMPLOYERS_PER_SECTOR, "each employer is an agent of the model")


#: Register categories a scenario may split the labour market by, and their segments' names.
SEGMENT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "none": ("all",), "education": EDUCATION_LEVELS, "age_group": AGE_GROUPS,
}


class Segments(Part):
    """Who competes with whom for a vacancy (docs/model.md, "Segments").

    Seekers and vacancies belong to segments of each sector's labour market, by a register category
    (`by`). A share `within_share` of a seeker's search competes only for the vacancies of their own
    segment; the rest goes to the whole sector's vacancies, each segment in proportion to its vacancies.
    `within_share` 0 is one pooled market per sector (as with `by = "none"`, the default), 1 separate
    markets. Each segment's vacancies start in proportion to its seekers' effective search, so job
    finding per unit of search starts equal across segments and calibrated moments hold;
    `vacancy_factor` scales a segment's labour demand against that (1 for a segment not named).
    """

    by: Literal["none", "education", "age_group"] = "none"
    within_share: Share = 0.7
    vacancy_factor: dict[str, Annotated[float, Field(gt=0.0, le=10.0)]] = {}

    @property
    def names(self) -> tuple[str, ...]:
        return SEGMENT_CATEGORIES[self.by]

    @model_validator(mode="after")
    def _known(self) -> Segments:
        unknown = sorted(set(self.vacancy_factor) - set(self.names))
        if unknown:
            raise ValueError(f"vacancy_factor names unknown segments {unknown}; allowed: {list(self.names)}")
        return self


class UrnBall(Part):
    """Where urn-ball matching equals the calibrated Cobb-Douglas in level and elasticity (docs/model.md,
    "Matching"): the Finnish market's efficiency and its search per open vacancy at week 0."""

    reference_efficiency: Annotated[float, Field(gt=0.0)] = 0.0261
    reference_search_per_vacancy: Annotated[float, Field(gt=0.0)] = 1.7


class Market(Part):
    """Matching, vacancies, jobs and the flows in and out of the register."""

    sectors: list[Sector] = [
        Sector(name="services", seeker_share=0.35),
        Sector(name="construction", seeker_share=0.15),
        Sector(name="technology", seeker_share=0.15),
        Sector(name="ict", seeker_share=0.10),
        Sector(name="other", seeker_share=0.25),
    ]
    congestion: bool = True
    matching_function: Literal["cobb_douglas", "urn_ball"] = "cobb_douglas"
    urn_ball: UrnBall = UrnBall()
    elasticity: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.6
    matching_efficiency: Annotated[float, Field(gt=0.0)] = 0.0261
    vacancy_expiry: Rate = 0.09
    work_forms: dict[str, Share] = {
        "permanent_full_time": 0.34,
        "permanent_part_time": 0.08,
        "temporary_full_time": 0.25,
        "temporary_part_time": 0.13,
        "entrepreneurship": 0.04,
        "gig_work": 0.10,
        "light_entrepreneurship": 0.06,
    }
    separation: dict[str, Rate] = {
        "permanent_full_time": 0.01,
        "permanent_part_time": 0.015,
        "temporary_full_time": 0.04,
        "temporary_part_time": 0.05,
        "entrepreneurship": 0.015,
        "gig_work": 0.08,
        "light_entrepreneurship": 0.06,
    }
    to_studies: Rate = 0.0095
    to_inactivity: Rate = 0.0125
    exit_decay_per_year: Annotated[float, Field(ge=0.0, le=10.0)] = 0.3
    from_studies: Rate = 0.02
    from_inactivity: Rate = 0.01
    segments: Segments = Segments()

    @field_validator("sectors", mode="before")
    @classmethod
    def _sectors_fit(cls, sectors: Any) -> Any:
        return at_most(sectors, MAX_SECTORS, "each sector is a labour market of its own")

    @field_validator("work_forms")
    @classmethod
    def _all_forms(cls, shares: dict[str, float]) -> dict[str, float]:
        """Forms of work a scenario leaves out get no jobs (share 0); the named ones must sum to 1."""
        _check_shares(shares, WORK_FORMS, "work forms")
        return {f: shares.get(f, 0.0) for f in WORK_FORMS}

    @field_validator("separation")
    @classmethod
    def _jobs_end(cls, rates: dict[str, float]) -> dict[str, float]:
        never = sorted(f for f, rate in rates.items() if rate <= 0)
        if never:
            raise ValueError(
                f"every form of work needs a separation rate above 0 (got 0 for {never}): a job that "
                "never ends would absorb the whole register; to leave a form out, give it work_forms share 0"
            )
        return rates

    @field_validator("from_studies", "from_inactivity")
    @classmethod
    def _people_return(cls, rate: float) -> float:
        if rate <= 0:
            raise ValueError(
                "must be above 0: people who leave the register must be able to come back, or they "
                "pile up outside it; to switch the flow off, set to_studies or to_inactivity to 0"
            )
        return rate

    @model_validator(mode="after")
    def _check(self) -> Market:
        names = [s.name for s in self.sectors]
        if len(set(names)) != len(names):
            raise ValueError(f"sector names must be unique (got {names})")
        total = sum(s.seeker_share for s in self.sectors)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"sectors' seeker_share must sum to 1 (they sum to {total:.4f})")
        missing = sorted(set(WORK_FORMS) - set(self.separation))
        extra = sorted(set(self.separation) - set(WORK_FORMS))
        if missing or extra:
            raise ValueError(f"separation needs one rate per work form {list(WORK_FORMS)}")
        few = [s.name for s in self.sectors if s.employers < len(self.segments.names)]
        if few:
            raise ValueError(f"sectors {few} have fewer employers than the {len(self.segments.names)} segments "
                             f"by {self.segments.by}: each segment needs an employer in each sector")
        return self


class Services(Part):
    """The TE office's routine services, open to everyone unemployed (pilot or not)."""

    activation_rate: Rate = 0.0127
    activation_after_weeks: NonNegInt = 13
    activation_weeks: PosInt = 12
    activation_search_share: Share = 0.3
    activation_employability_gain: Annotated[float, Field(ge=0.0, le=1.0)] = 0.2
    activation_selection: Annotated[float, Field(ge=0.0, le=10.0)] = 5.5
    meeting_interval_weeks: PosInt = 2
    meeting_effort_gain: Annotated[float, Field(ge=0.0, le=2.0)] = 0.1


class Eligibility(Part):
    """Who may be referred to the pilot."""

    min_weeks_unemployed: NonNegInt = 13
    max_weeks_unemployed: NonNegInt = 26
    age_groups: list[Literal["under_25", "age_25_54", "over_55"]] = list(AGE_GROUPS)
    sectors: list[str] | None = None
    segments: list[str] | None = None  # segments of market.segments (e.g. ["tertiary"]); None: all

    @model_validator(mode="after")
    def _band(self) -> Eligibility:
        if self.max_weeks_unemployed < self.min_weeks_unemployed:
            raise ValueError(
                f"max_weeks_unemployed ({self.max_weeks_unemployed}) must not be below "
                f"min_weeks_unemployed ({self.min_weeks_unemployed})"
            )
        if not self.age_groups:
            raise ValueError("age_groups must name at least one of " + str(list(AGE_GROUPS)))
        return self


class TakeUp(Part):
    """Voluntary take-up: logit of accepting the offer, rising with motivation and employability."""

    intercept: float = -2.7
    motivation: float = 2.0
    employability: float = 1.0


#: The cluster designs: whole offices are assigned, so the standard error counts offices.
CLUSTER_DESIGNS = (Randomisation.OFFICE, Randomisation.AREA)
#: A scenario file writes an enum field as its text (`mode = "mandatory"`).
AsText = Field(strict=False)


class Referral(Part):
    """How TE offices send eligible job seekers to the pilot."""

    mode: Annotated[ReferralMode, AsText] = ReferralMode.VOLUNTARY
    start_week: PosInt = 1
    intake_weeks: PosInt = 52
    target_participants: PosInt = 1_500
    offer_share: Share = 0.6
    offers_per_counsellor_week: Annotated[float, Field(ge=0.0)] = 2.0
    take_up: TakeUp = TakeUp()
    no_show: Share = 0.15
    sanction_effort_gain: Annotated[float, Field(ge=0.0, le=2.0)] = 0.2
    sanction_to_inactivity: Share = 0.1
    eligibility: Eligibility = Eligibility()


class Design(Part):
    """How the pilot is evaluated: who is randomised to the pilot arm, and in what units.

    `individual`: each newly eligible seeker is randomised with probability `treatment_share`.
    `office`: whole TE offices are randomised (cluster design): a share `treatment_share` of the offices
    (at least one in each arm) refers all its eligible to the pilot, the others none.
    `saturation`: each labour market (sector) draws a treated share from `saturation_shares` (randomised
    saturation, Crepon et al. 2013), then individuals within it are randomised at that share; the
    untreated in highly treated markets against those in untreated markets measure displacement.
    `area`: pilot and non-pilot areas (offices chosen as for `office`) compared by difference in
    differences: those who become eligible in the weeks before the intake opens (weeks 1 to
    `referral.start_week - 1`) are recorded in both areas as the "before" cohorts, nobody referred.
    `treatment_share` 0 (nobody referred) and 1 (everyone eligible referred) give the no-pilot and
    roll-out worlds the diagnosis compares the pilot with. `primary_horizon_weeks` names the outcome
    horizon (13, 26 or 52 weeks after assignment) the pilot is judged on, named before it starts: sizes
    and verdicts are read there, and the other horizons are shown as secondary (Holm-adjusted).
    """

    randomisation: Annotated[Randomisation, AsText] = Randomisation.INDIVIDUAL
    primary_horizon_weeks: Literal[13, 26, 52] = 26  # the horizon the pilot is judged on; the others secondary
    treatment_share: Share = 0.5
    estimator: Literal["difference", "adjusted"] = "difference"  # adjusted: for register covariates (Lin 2013)
    saturation_shares: list[Share] = [0.0, 0.25, 0.5, 0.75, 1.0]

    @model_validator(mode="after")
    def _shares(self) -> Design:
        if self.randomisation is Randomisation.SATURATION and not self.saturation_shares:
            raise ValueError("saturation_shares must list at least one treated share")
        return self

    def offices_per_arm(self, offices: int) -> tuple[int, int]:
        """Offices in the pilot and the control arm of an office or area design: a share
        `treatment_share` of them, rounded, with at least one in each arm when there are two or more."""
        treated = min(max(round(self.treatment_share * offices), 1), offices - 1) if offices > 1 else 1
        return treated, offices - treated

    def clusters_ok(self, offices: int) -> bool:
        """Whether a cluster design has two offices or more in each arm (with one, the clustered SE of
        that arm is 0 or undefined and no test is possible); always true for other designs."""
        return self.randomisation not in CLUSTER_DESIGNS or min(self.offices_per_arm(offices)) >= 2


class Providers(Part):
    """Private providers that serve the pilot's clients: their size, costs, networks and what they see."""

    count: PosInt = 3
    capacity: PosInt = 400
    service_weeks: PosInt = 26
    effort: Annotated[float, Field(ge=0.0, le=1.0)] | None = None  # None: chosen under the contract
    effort_effect: Annotated[float, Field(ge=0.0, le=5.0)] = 0.6
    cost_per_client_week_eur: Euro = 35.0
    effort_cost_per_client_week_eur: Euro = 30.0
    setup_cost_eur: Euro = 30_000.0
    observation_noise: Annotated[float, Field(ge=0.0, le=3.0)] = 0.3
    effort_levels: list[Share] = [0.0, 0.25, 0.5, 0.75, 1.0]
    progress_rate: Rate = 0.03
    network_share: Share = 0.0
    recruitment: Share = 0.0
    exit_loss_eur: Euro | None = None
    exit_review_week: NonNegInt = 26

    @field_validator("effort_levels")
    @classmethod
    def _grid(cls, levels: list[float]) -> list[float]:
        if not levels or levels != sorted(set(levels)):
            raise ValueError("effort_levels must list at least one level, increasing, each 0-1")
        return levels

    @field_validator("count", mode="before")
    @classmethod
    def _providers_fit(cls, n: Any) -> Any:
        return at_most(n, MAX_PROVIDERS, "providers are stepped one by one every week")


class Pilot(Part):
    """When the pilot runs; at its end the remaining clients return to the office."""

    end_week: PosInt = 104


class Scenario(Part):
    """A whole world and its pilot, as read from one TOML file."""

    name: Annotated[str, Field(min_length=1)] = "unnamed"
    description: str = ""
    description_fi: str = ""  # the description in Finnish and Swedish, for reports in those languages
    description_sv: str = ""
    weeks: PosInt = 104
    area: Area = Area()
    population: Population = Population()
    market: Market = Market()
    services: Services = Services()
    referral: Referral = Referral()
    design: Design = Design()
    providers: Providers = Providers()
    payment: Payment = Payment()
    pilot: Pilot = Pilot()
    costs: Costs | None = None  # the buyer's costs besides providers' fees: `labsim plan` needs them
    assumptions: list[Assumption] = []

    @field_validator("weeks", mode="before")
    @classmethod
    def _weeks_fit(cls, weeks: Any) -> Any:
        return at_most(weeks, MAX_WEEKS, "a run keeps 17 bytes per seeker and pilot week for its outcomes")

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        sectors = {s.name for s in self.market.sectors}
        wanted = self.referral.eligibility.sectors
        if wanted is not None:
            unknown = sorted(set(wanted) - sectors)
            if unknown or not wanted:
                raise ValueError(
                    f"referral.eligibility.sectors names unknown sectors {unknown}; "
                    f"allowed: {sorted(sectors)}"
                )
        segments = self.referral.eligibility.segments
        allowed = self.market.segments.names
        if segments is not None and (not segments or set(segments) - set(allowed) or self.market.segments.by == "none"):
            raise ValueError(
                f"referral.eligibility.segments names {segments}: allowed are the segments of "
                f"market.segments.by = '{self.market.segments.by}' {list(allowed)}, and a category other than 'none'"
            )
        if not self.design.clusters_ok(self.area.offices):
            arms = self.design.offices_per_arm(self.area.offices)
            raise ValueError(
                f"area.offices = {self.area.offices} gives {arms[0]} pilot and {arms[1]} control office(s) under "
                f"design.randomisation = '{self.design.randomisation}' (treatment_share "
                f"{self.design.treatment_share}): a cluster design needs at least 2 offices in each arm "
                f"(with 1 its standard error is 0 or undefined); raise area.offices"
            )
        if self.design.randomisation is Randomisation.AREA and self.referral.start_week < 2:
            raise ValueError(
                "design.randomisation = 'area' compares pilot and non-pilot offices before and after the "
                "intake opens: it needs referral.start_week >= 2 (the weeks before it give the 'before' "
                f"cohorts; got start_week {self.referral.start_week})"
            )
        if self.pilot.end_week < self.referral.start_week:
            raise ValueError(
                f"pilot.end_week ({self.pilot.end_week}) must not come before "
                f"referral.start_week ({self.referral.start_week})"
            )
        self._check_assumptions()
        return self

    def with_values(self, values: Mapping[str, Any], source: str | None = None) -> Scenario:
        """A new scenario with the fields at these dotted paths set, validated again (scikit-learn's
        `set_params`): `scenario.with_values({"providers.effort_effect": 0.3})`. A field set leaves its
        `[[assumptions]]` evidence range behind (this world takes the value as given); `payment.preset`
        replaces the payment terms with the named preset's. An unknown path or a value the field does not
        take is a `ScenarioError` naming the path and what is allowed there (`source` names where the
        values came from; the scenario's name by default). Whole-number fields take whole numbers."""
        source = source or self.name
        data = self.model_dump()
        for path, value in values.items():
            if path == "payment.preset":
                data["payment"] = {"preset": value}
                continue
            check_path(path, source, path)
            node, parts = data, path.split(".")
            for part in parts[:-1]:
                if node.get(part) is None:  # an optional section the scenario leaves out (costs)
                    node[part] = {}
                node = node[part]
            node[parts[-1]] = value.item() if hasattr(value, "item") and not isinstance(value, list) else value
        data["assumptions"] = [a for a in data["assumptions"] if a["path"] not in values]
        return parse_scenario(data, source)

    def _check_assumptions(self) -> None:
        """Each assumption names a numeric field once, and the scenario's value lies in its range."""
        seen: set[str] = set()
        for a in self.assumptions:
            try:
                value = number_at(self, a.path)
            except ValueError as err:
                raise ValueError(f"assumptions: {err}") from None
            if a.path in seen:
                raise ValueError(f"assumptions: {a.path} is named twice")
            seen.add(a.path)
            if not a.low <= value <= a.high:
                raise ValueError(
                    f"assumptions: the scenario's {a.path} = {value} lies outside its evidence range "
                    f"{a.low}-{a.high}"
                )


def check_path(path: str, source: str, field: str) -> None:
    """Refuse a dotted path that is not a field of the scenario schema, saying what is allowed there."""
    model: type[BaseModel] = Scenario
    parts = path.split(".")
    for i, part in enumerate(parts):
        where = ".".join(parts[:i]) or "the scenario"
        fields = model.model_fields
        if part not in fields:
            raise ScenarioError(
                source, field, f"'{path}' is not a scenario field: {where} has no '{part}'; "
                f"allowed: {', '.join(fields)}"
            )
        sub = _section(fields[part].annotation)
        if i < len(parts) - 1 and not (isinstance(sub, type) and issubclass(sub, BaseModel)):
            value = ".".join(parts[: i + 1])
            raise ScenarioError(
                source, field, f"'{path}' is not a scenario field: '{value}' is a value, not a section "
                "(vary it as a whole)"
            )
        model = sub


def _section(annotation: Any) -> Any:
    """The section model of a field's annotation (an optional section's model, e.g. `Costs | None`)."""
    models = [a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    return models[0] if len(models) == 1 else annotation


def _format_validation_error(source: str, err: ValidationError) -> ScenarioError:
    first = err.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling; `docs/model.md` lists every field)"
    elif "input" in first and first["type"] not in ("missing",) and not isinstance(
        first["input"], dict
    ):
        got = repr(first["input"])
        msg = f"{msg} (got {got if len(got) <= 60 else got[:57] + '...'})"
    msg = msg.removeprefix("Value error, ")
    more = len(err.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(source, field, msg)


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a dict (as read from TOML)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise _format_validation_error(source, err) from None


def read_scenario_dict(path: str | Path) -> dict[str, Any]:
    """Read a scenario file into a plain dict, with a clear error if it is missing or not TOML."""
    return read_toml(path, "scenario")


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Read a TOML file (a scenario or an experiment) into a dict; a missing file, bad TOML or bad
    encoding is a one-line error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), None, f"no such {what} file")
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except UnicodeDecodeError:
        raise ScenarioError(str(path), None, "not a text file in UTF-8") from None
    except (ValueError, RecursionError) as err:  # TOMLDecodeError, a 5,000-digit number, deep nesting
        raise ScenarioError(str(path), None, f"not valid TOML: {_short(err)}") from None
    except OSError as err:
        raise ScenarioError(str(path), None, f"cannot be read ({err.strerror or err})") from None
    if _depth(data) > MAX_DEPTH:
        raise ScenarioError(str(path), None, f"nested more than {MAX_DEPTH} levels deep (tables and arrays)")
    return data


#: Tables and arrays within each other: scenario and experiment files need a handful.
MAX_DEPTH = 16


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split()) or "nested too deeply"
    return text if len(text) <= 120 else text[:117] + "..."


def _depth(value: Any) -> int:
    """How deeply tables and arrays nest in `value` (counted without recursion)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def _parse_value(text: str, key: str = "") -> Any:
    """Read an override's value the way TOML would, falling back to a bare string (so the schema says
    what it expected; a value nested too deeply or a 5,000-digit number is refused here)."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except (ValueError, RecursionError) as err:
        raise ScenarioError("--set", key.strip(), f"not a value labsim can read ({_short(err)})") from None
    if _depth(value) > MAX_DEPTH - 2:
        raise ScenarioError("--set", key.strip(), f"nested more than {MAX_DEPTH - 2} levels deep")
    return value


def apply_overrides(data: dict[str, Any], overrides: list[str], source: str) -> dict[str, Any]:
    """Apply `dotted.path=value` overrides to a scenario dict (a copy is returned)."""
    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ScenarioError(source, item, "an override must read dotted.path=value")
        key, _, text = item.partition("=")
        set_field(data, key, _parse_value(text.strip(), key), source)
    return data


def set_field(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Set the field at a dotted path of a scenario dict in place (sections created as needed). Setting a
    parameter that has an `[[assumptions]]` entry fixes it: the entry's evidence range is dropped."""
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise ScenarioError(source, key, "an override must read dotted.path=value")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ScenarioError(source, key, f"'{part}' is a value, not a section")
        node = child
    node[parts[-1]] = copy.deepcopy(value)
    assumed = data.get("assumptions")
    if isinstance(assumed, list):
        path = ".".join(parts)
        data["assumptions"] = [a for a in assumed if not (isinstance(a, dict) and a.get("path") == path)]


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load and validate a scenario file, applying `dotted.path=value` overrides if given."""
    source = str(path)
    data = read_scenario_dict(path)
    if overrides:
        data = apply_overrides(data, overrides, source)
    return parse_scenario(data, source)


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The fully resolved scenario (defaults filled in), as plain data for manifests."""
    return scenario.model_dump(mode="json")
