"""Pilots kept between answers, so that a second answer runs only what is new (the page, issue 28).

A pilot's record depends on its world (the scenario variant it ran, its seeds, how long it ran) and not on
the analysis: the significance level only decides which p-values count as rejections (and the normal
critical value a z statistic is tested against), the power and assurance targets only where the fitted
curve is read, the estimator and the horizon only how the same run is read. So a `PilotCache` keeps:
- every pilot by what determines it: the hash of its scenario variant, its replication, size, figures and
  root seed (`wrap`: a simulator that runs only the pilots it cannot read from those kept, and hands back
  the others read as asked, at the level asked: `reanalysed`);
- each search's pilots by the world-determining inputs of its search (the scenario with the lever set
  aside, the lever, seed and batch; for the joint evidence also the ranges): a later search of the same
  world starts from them (`prior`, `keep`), so that moving only an analysis lever (alpha, power,
  assurance target, estimator, the horizon) re-reads the pilots already run and adds batches only
  where the new N* needs them;
- the roll-out worlds by the scenario, the reference batch's worlds and their last intake weeks, and the
  root seed (`worlds`).
Every key reads the scenario's numbers only (`numbers`): its name, descriptions and sources are text that
changes no pilot, and the page rewrites the description whenever a lever moves. The estimator and the
horizon named in the scenario (`ANALYSIS`) are left out too: they change how a pilot is read, not the pilot.

The estimator: with a cache the size job asks every pilot for its reading under each estimator
(`results.pilot.READINGS`, the estimator-dependent fields: the main estimate and its test, the untested
effects, the extra jobs), and a pilot kept under one estimator is handed back as the other reads it.

The horizon: a pilot run to horizon H stops H weeks after its last assignment, and later weeks never change
earlier ones, so it holds what a run to a shorter horizon h would report. With a cache the size job runs
every pilot, and every roll-out world, to the longest horizon a scenario may name (`longest`, 52 weeks:
`run_to`) and asks it for its fields read at each shorter one (`replicate.HORIZON_READINGS`, under each
estimator too); a pilot kept at H is handed back at h <= H as the run to h reports it (every field but
`weeks_run`, how long it ran). So the horizon lever, moved either way, re-reads the pilots run, for about a
quarter more CPU in the first answer (docs/performance.md). A pilot kept at h cannot say week H > h (a cache
with a shorter `longest`): a longer horizon runs it again, and the longer run, which reads the shorter
horizon too, replaces it. (An accounts pilot runs the scenario's full length at any horizon, but it too is
read only at shorter ones.)

The search's rows name their pilot (`PILOT`), so that a later search re-reads them under the estimator and
at the horizon asked: the search at 13 weeks after one at 26 starts from the 26-week search's pilots read at
13, exactly as it would from the same pilots run to 13, and adds the batches its own N* needs. A search
whose kept rows cannot all be read as asked (back at 26 after 13, whose new batches ran to 13 only) starts
afresh, taking every pilot it asks for that is kept: the first answer at 26 again, with nothing new run.
Which pilots a warm search starts from depends on the answers before it (as for alpha or the power target);
what it makes of them does not. Everything else (a world lever such as the effect, the market or the
referral mode) changes the key, so the answer runs what is new. `ran` counts the pilots (and roll-out world
runs) actually simulated, which the tests read.

Every record handed back is a copy: a search adds fields to its rows (`reached`, `part`), never to the
cache's.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from labsim.config.scenario import Scenario
from labsim.design.replicate import HORIZON_READINGS, SEARCH_FIGURES, Figure
from labsim.results.pilot import READINGS
from labsim.results.summary import HORIZONS

#: Pilots one cache keeps (oldest searches dropped first beyond it): about 30 whole answers of fi_2019.
LIMIT = 30_000


#: Fields that are text only and change no number a pilot gives: the scenario's name and descriptions (the
#: page rewrites the description whenever a lever moves), an evidence range's sources and a cost's source.
#: They are left out of every key, so that a scenario differing only in them reuses the pilots kept.
TEXT_FIELDS = {
    (): ("name", "description", "description_fi", "description_sv"),
    ("assumptions",): ("source", "source_fi", "source_sv"),
    ("costs", "*"): ("source",),
}


def numbers(scenario: Scenario) -> dict[str, Any]:
    """The scenario as plain data without its text-only fields (`TEXT_FIELDS`): what decides its pilots."""
    data = scenario.model_dump(mode="json")
    for name in TEXT_FIELDS[()]:
        data.pop(name, None)
    for a in data.get("assumptions") or []:
        for name in TEXT_FIELDS[("assumptions",)]:
            a.pop(name, None)
    for item in (data.get("costs") or {}).values():
        if isinstance(item, dict):
            for name in TEXT_FIELDS[("costs", "*")]:
                item.pop(name, None)
    return data


def _hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


#: What the planner switches without changing any pilot's world: the estimator and the horizon named in the
#: scenario only read the pilots run (every other field, even design.treatment_share, changes the pilots).
#: Left out of every key; a kept pilot is handed back as the asked estimator reads it at the asked horizon
#: (`PilotCache.wrap`).
ANALYSIS = (("design", "estimator"), ("design", "primary_horizon_weeks"))


def world_numbers(scenario: Scenario) -> dict[str, Any]:
    """The scenario's numbers (`numbers`) without the fields that only read its pilots (`ANALYSIS`): what
    decides its pilots' worlds."""
    data = numbers(scenario)
    for section, name in ANALYSIS:
        data[section].pop(name, None)
    return data


def scenario_hash(scenario: Scenario) -> str:
    """A short hash of every number that decides the scenario's pilots (its world, its pilot, its design),
    its text, its estimator and its horizon left out."""
    return _hash(world_numbers(scenario))


def reanalysed(record: dict[str, Any], alpha: float) -> dict[str, Any]:
    """A copy of a pilot's record read at significance level `alpha`: its rejection from its p-value, and
    the normal critical value where its test is the normal one (hc2)."""
    out = dict(record)
    p = out.get("p_value")
    if p is not None and isinstance(p, float | int) and math.isfinite(p):
        out["reject"] = bool(p < alpha)
    if out.get("test") == "hc2":
        out["z_critical"] = NormalDist().inv_cdf(1 - alpha / 2)
    return out


#: The column naming the kept pilot a search's row is (an id of its key), so that a later search can re-read
#: the row under another estimator or at another horizon; the size job drops it from the rows it returns.
PILOT = "_pilot"


def pilot_id(key: tuple) -> str:
    """A kept pilot's id (`PILOT`): a short hash of its key."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


@dataclass
class PilotCache:
    """The pilots of earlier answers (see the module's docstring); `ran` counts the simulations run."""

    pilots: dict[tuple, dict[str, Any]] = field(default_factory=dict)
    searches: dict[tuple, list[dict[str, Any]]] = field(default_factory=dict)
    #: the roll-out worlds' runs (no pilot, rolled out) and the horizon they ran to
    rollouts: dict[tuple, tuple[dict, dict, int]] = field(default_factory=dict)
    #: each kept pilot's estimator-dependent fields as each estimator reads it (`results.pilot.READINGS`)
    readings: dict[tuple, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: each kept pilot's fields read at each shorter horizon, their READINGS within (`HORIZON_READINGS`)
    shorter: dict[tuple, dict[int, dict[str, Any]]] = field(default_factory=dict)
    estimators: dict[tuple, str] = field(default_factory=dict)  # the estimator each kept pilot was run under
    horizons: dict[tuple, int] = field(default_factory=dict)  # the horizon each kept pilot was run to
    ids: dict[str, tuple] = field(default_factory=dict)  # PILOT's id -> the pilot's key
    ran: int = 0
    #: the horizon the size job runs this cache's pilots and roll-out worlds to (`run_to`)
    longest: int = max(HORIZONS)

    def run_to(self, horizon: int) -> int:
        """The horizon a size job at `horizon` runs its new pilots and roll-out worlds to: the longest a
        scenario may name (`longest`), so that the horizon lever, moved either way, re-reads them."""
        return max(horizon, self.longest)

    def wrap(self, run: Callable[..., list[dict[str, Any]]], *, horizon: int, alpha: float, seed: int,
             ran_to: int | None = None) -> Callable[..., list[dict[str, Any]]]:
        """`run` (a `size.Simulate`, whose pilots run to `ran_to`, default `horizon`, with their readings at
        the shorter horizons) that simulates only the pilots this cache has not seen, or has seen but cannot
        read at `horizon` or under the estimator asked (their scenario's design.estimator), and hands every
        pilot back read at `horizon`."""
        ran_to = horizon if ran_to is None else ran_to
        hashes: dict[int, tuple[Scenario, str]] = {}

        def key_of(rep: int, sc: Scenario, size: int, figures: tuple[Figure, ...]) -> tuple:
            kept = hashes.get(id(sc))
            if kept is None or kept[0] is not sc:
                kept = hashes[id(sc)] = (sc, scenario_hash(sc))
            return kept[1], int(rep), int(size), tuple(figures), seed

        def cached(pairs: list[tuple[int, Scenario]], size: int, label: str,
                   figures: tuple[Figure, ...] = SEARCH_FIGURES) -> list[dict[str, Any]]:
            keys = [key_of(rep, sc, size, figures) for rep, sc in pairs]
            asked = [sc.design.estimator for _, sc in pairs]
            new = [(k, pair) for k, e, pair in zip(keys, asked, pairs) if self.read(k, e, horizon) is None]
            if new:
                rows = run([pair for _, pair in new], size, label, figures)
                self.ran += len(rows)
                by_rep = {int(r["replication"]): r for r in rows}
                for k, (rep, sc) in new:
                    self.add(k, by_rep[int(rep)], sc.design.estimator, ran_to)
            return [reanalysed(self.read(k, e, horizon), alpha) for k, e in zip(keys, asked)]
        return cached

    def add(self, key: tuple, record: dict[str, Any], estimator: str, horizon: int) -> None:
        """Keep a new pilot's record, run under `estimator` to `horizon`, with its readings under the other
        estimators and at shorter horizons if it holds them (`READINGS`, `HORIZON_READINGS`: the size job
        asks for them when it has a cache). It replaces a pilot kept under the same key (one run to a
        shorter horizon, which the new one reads too)."""
        record = dict(record)
        self.readings[key] = record.pop(READINGS, None) or {}
        self.shorter[key] = record.pop(HORIZON_READINGS, None) or {}
        self.pilots[key] = record
        self.estimators[key] = estimator
        self.horizons[key] = horizon
        self.ids[pilot_id(key)] = key

    def read(self, key: tuple, estimator: str, horizon: int) -> dict[str, Any] | None:
        """A copy of the kept pilot under `key` as `estimator` reads it at `horizon`, with its id (`PILOT`);
        None if it is not kept, or holds no such reading (run to a shorter horizon, or under another
        estimator without a reading under this one)."""
        reading = self._reading(key, estimator, horizon)
        return None if reading is None else {**self.pilots[key], **reading, PILOT: pilot_id(key)}

    def _reading(self, key: tuple, estimator: str, horizon: int) -> dict[str, Any] | None:
        """The fields that change when the kept pilot `key` is read by `estimator` at `horizon`: none if it
        was run so, its kept readings otherwise; None if the pilot is not kept or holds no such reading."""
        if key not in self.pilots:
            return None
        own = self.estimators.get(key) == estimator
        if horizon == self.horizons.get(key):
            return {} if own else self.readings.get(key, {}).get(estimator)
        at = self.shorter.get(key, {}).get(horizon)  # only horizons shorter than the run's are kept
        if at is None:
            return None
        fields = {k: v for k, v in at.items() if k != READINGS}
        other = {} if own else at.get(READINGS, {}).get(estimator)
        return None if other is None else {**fields, **other}

    def prior(self, key: tuple, alpha: float, estimator: str, horizon: int) -> list[dict[str, Any]]:
        """The pilots an earlier search of the same world ran, as `estimator` reads them at `horizon` and
        `alpha`, oldest first; none if one of them cannot be read so (the search then starts afresh, and
        still takes every pilot it asks for that is kept)."""
        out = []
        for row in self.searches.get(key, []):
            pilot = self.ids.get(row.get(PILOT))
            record = None if pilot is None else self.read(pilot, estimator, horizon)
            if record is None:
                return []
            out.append(reanalysed({**row, **record}, alpha))  # the search's own fields (part, reached) kept
        return out

    def keep(self, key: tuple, rows: list[dict[str, Any]]) -> None:
        """A search's pilots, for the next search of the same world; the oldest searches go beyond `LIMIT`."""
        self.searches[key] = [dict(r) for r in rows]
        while sum(map(len, self.searches.values())) + len(self.pilots) > LIMIT and len(self.searches) > 1:
            oldest = next(iter(self.searches))
            del self.searches[oldest]
        if len(self.pilots) > LIMIT:
            for k in list(self.pilots)[: len(self.pilots) - LIMIT]:
                del self.pilots[k]
                for kept in (self.readings, self.shorter, self.estimators, self.horizons):
                    kept.pop(k, None)
                self.ids.pop(pilot_id(k), None)

    def worlds(self, key: tuple, run: Callable[[], tuple[dict, dict]], horizon: int, ran_to: int
               ) -> tuple[dict, dict]:
        """The roll-out worlds' runs (no pilot, rolled out) kept under `key`, read at `horizon`; else `run()`
        (its worlds run to `ran_to`), kept. Worlds kept at a longer horizon are read at a shorter one from
        their readings there (`HORIZON_READINGS`); at a longer one they run again."""
        if key in self.rollouts:
            *kept, kept_to = self.rollouts[key]
            read = _worlds_at(kept, kept_to, horizon)
            if all(r is not None for part in read for r in part.values()):
                return read
        nones, rollouts = run()
        self.ran += len(nones) + len(rollouts)
        self.rollouts[key] = (nones, rollouts, ran_to)
        return _worlds_at((nones, rollouts), ran_to, horizon)


def _worlds_at(parts, ran_to: int, horizon: int) -> tuple[dict, dict]:
    """Each part's worlds (no pilot, rolled out), run to `ran_to`, read at `horizon` (None: cannot be)."""
    nones, rollouts = ({rep: world_at(r, ran_to, horizon) for rep, r in part.items()} for part in parts)
    return nones, rollouts


def world_at(record: dict[str, Any], ran_to: int, horizon: int) -> dict[str, Any] | None:
    """A copy of a world's run (`ran_to`: the horizon it ran to) as a run to `horizon` reports it: its cohorts'
    employment at that horizon (None if it holds no reading there)."""
    out = {k: v for k, v in record.items() if k != HORIZON_READINGS}
    if horizon == ran_to:
        return out
    at = record.get(HORIZON_READINGS, {}).get(horizon)
    return None if at is None else {**out, **at}


#: The field a lever sets, left out of a search's key: the size planned is where a search starts, not what
#: its pilots are (offices keep theirs: the register scales with the offices planned).
LEVER_FIELD = {"participants": ("referral", "target_participants"), "intake-weeks": ("referral", "intake_weeks")}


def search_key(kind: str, scenario: Scenario, by: str, seed: int, batch: int, *extra: Any) -> tuple:
    """What decides a search's pilots, whatever the analysis asks of them (the horizon too: `prior` reads
    the kept rows at the horizon asked): the scenario with its lever's planned size set aside, the lever,
    root seed, batch, and for the joint evidence its ranges."""
    data = world_numbers(scenario)
    if by in LEVER_FIELD:
        section, name = LEVER_FIELD[by]
        data[section].pop(name, None)
    return kind, _hash(data), by, seed, batch, *map(_value_repr, extra)


def _value_repr(value: Any) -> str:
    """A key's text for an extra value: evidence ranges by their numbers and distribution (not their source)."""
    from labsim.design.evidence import Range

    if isinstance(value, tuple | list):
        return repr(tuple(_value_repr(v) for v in value))
    if isinstance(value, Range):
        return repr((value.path, value.low, value.central, value.high, value.distribution))
    return repr(value)
