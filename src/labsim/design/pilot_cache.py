"""Pilots kept between answers, so that a second answer runs only what is new (the page, issue 28).

A pilot's record depends on its world (the scenario variant it ran, its seeds, the horizon it was read at)
and not on the analysis: the significance level only decides which p-values count as rejections (and the
normal critical value a z statistic is tested against), the power and assurance targets only where the
fitted curve is read. So a `PilotCache` keeps:
- every pilot by what determines it: the hash of its scenario variant, its replication, size, figures,
  horizon and root seed (`wrap`: a simulator that runs only the pilots it has not seen, and hands back
  the others re-read at the level asked: `reanalysed`);
- each search's pilots by the world-determining inputs of its search (the scenario with the lever set
  aside, the lever, horizon, seed and batch; for the joint evidence also the ranges): a later search of
  the same world starts from them (`prior`, `keep`), so that moving only an analysis lever (alpha, power,
  assurance target) refits the pilots already run and adds batches only where the new N* needs them;
- the roll-out worlds by the scenario, the reference size and the worlds' seeds (`worlds`).
Every key reads the scenario's numbers only (`numbers`): its name, descriptions and sources are text that
changes no pilot, and the page rewrites the description whenever a lever moves.
The estimator changes no pilot either, only how it is read: with a cache the size job asks every pilot
for its reading under each estimator (`results.pilot.READINGS`, the estimator-dependent fields: the main
estimate and its test, the untested effects, the extra jobs), and a pilot kept under one estimator is handed
back as the other reads it, so switching the estimator simulates nothing already run (the search's rows
name their pilot, `PILOT`, so that a later search re-reads them too). Everything else (a world lever such as
the effect, the market or the referral mode, the horizon) changes the key, so the answer runs what is new. `ran` counts the pilots (and roll-out world
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
from labsim.design.replicate import SEARCH_FIGURES, Figure
from labsim.results.pilot import READINGS

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


#: What the planner switches without changing any pilot's world: the estimator only reads the pilots run
#: (every other field, even design.treatment_share, changes the pilots). Left out of every key; a kept
#: pilot is handed back as the asked estimator reads it (`PilotCache.wrap`).
READING = ("design", "estimator")


def world_numbers(scenario: Scenario) -> dict[str, Any]:
    """The scenario's numbers (`numbers`) without the estimator (`READING`): what decides its pilots' worlds."""
    data = numbers(scenario)
    data[READING[0]].pop(READING[1], None)
    return data


def scenario_hash(scenario: Scenario) -> str:
    """A short hash of every number that decides the scenario's pilots (its world, its pilot, its design),
    its text and its estimator left out."""
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
#: the row under another estimator; the size job drops it from the rows it returns.
PILOT = "_pilot"


def pilot_id(key: tuple) -> str:
    """A kept pilot's id (`PILOT`): a short hash of its key."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


@dataclass
class PilotCache:
    """The pilots of earlier answers (see the module's docstring); `ran` counts the simulations run."""

    pilots: dict[tuple, dict[str, Any]] = field(default_factory=dict)
    searches: dict[tuple, list[dict[str, Any]]] = field(default_factory=dict)
    rollouts: dict[tuple, tuple[dict, dict]] = field(default_factory=dict)
    #: each kept pilot's estimator-dependent fields as each estimator reads it (`results.pilot.READINGS`)
    readings: dict[tuple, dict[str, dict[str, Any]]] = field(default_factory=dict)
    estimators: dict[tuple, str] = field(default_factory=dict)  # the estimator each kept pilot was run under
    ids: dict[str, tuple] = field(default_factory=dict)  # PILOT's id -> the pilot's key
    ran: int = 0

    def wrap(self, run: Callable[..., list[dict[str, Any]]], *, horizon: int, alpha: float, seed: int
             ) -> Callable[..., list[dict[str, Any]]]:
        """`run` (a `size.Simulate`) that simulates only the pilots this cache has not seen, or has seen but
        cannot read under the estimator asked (their scenario's design.estimator)."""
        hashes: dict[int, tuple[Scenario, str]] = {}

        def key_of(rep: int, sc: Scenario, size: int, figures: tuple[Figure, ...]) -> tuple:
            kept = hashes.get(id(sc))
            if kept is None or kept[0] is not sc:
                kept = hashes[id(sc)] = (sc, scenario_hash(sc))
            return kept[1], int(rep), int(size), tuple(figures), horizon, seed

        def cached(pairs: list[tuple[int, Scenario]], size: int, label: str,
                   figures: tuple[Figure, ...] = SEARCH_FIGURES) -> list[dict[str, Any]]:
            keys = [key_of(rep, sc, size, figures) for rep, sc in pairs]
            asked = [sc.design.estimator for _, sc in pairs]
            new = [(k, pair) for k, e, pair in zip(keys, asked, pairs) if self.read(k, e) is None]
            if new:
                rows = run([pair for _, pair in new], size, label, figures)
                self.ran += len(rows)
                by_rep = {int(r["replication"]): r for r in rows}
                for k, (rep, sc) in new:
                    self.add(k, by_rep[int(rep)], sc.design.estimator)
            return [reanalysed(self.read(k, e), alpha) for k, e in zip(keys, asked)]
        return cached

    def add(self, key: tuple, record: dict[str, Any], estimator: str) -> None:
        """Keep a new pilot's record, run under `estimator`, and its readings under the others if it holds
        them (`results.pilot.READINGS`: the size job asks for them when it has a cache)."""
        record = dict(record)
        self.readings[key] = record.pop(READINGS, None) or {}
        self.pilots[key] = record
        self.estimators[key] = estimator
        self.ids[pilot_id(key)] = key

    def read(self, key: tuple, estimator: str) -> dict[str, Any] | None:
        """A copy of the kept pilot under `key` as `estimator` reads it, with its id (`PILOT`); None if it is
        not kept, or was run under another estimator and holds no reading under this one."""
        reading = self._reading(key, estimator)
        return None if reading is None else {**self.pilots[key], **reading, PILOT: pilot_id(key)}

    def _reading(self, key: tuple, estimator: str) -> dict[str, Any] | None:
        """The fields that change when the kept pilot `key` is read by `estimator`: none if it was run under
        it, its kept reading otherwise; None if the pilot is not kept or holds no such reading."""
        if key not in self.pilots:
            return None
        return {} if self.estimators.get(key) == estimator else self.readings.get(key, {}).get(estimator)

    def prior(self, key: tuple, alpha: float, estimator: str | None = None) -> list[dict[str, Any]]:
        """The pilots an earlier search of the same world ran, as `estimator` reads them (default: as they
        were run) at `alpha`, oldest first; none if one of them cannot be read so (the search then starts
        afresh, and still takes every pilot it asks for that is kept)."""
        out = []
        for row in self.searches.get(key, []):
            if estimator is not None:
                pilot = self.ids.get(row.get(PILOT))
                reading = None if pilot is None else self._reading(pilot, estimator)
                if reading is None:
                    return []
                row = {**row, **reading}
            out.append(reanalysed(row, alpha))
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
                self.readings.pop(k, None)
                self.estimators.pop(k, None)
                self.ids.pop(pilot_id(k), None)

    def worlds(self, key: tuple, run: Callable[[], tuple[dict, dict]]) -> tuple[dict, dict]:
        """The roll-out worlds' runs (no pilot, rolled out) kept under `key`, else `run()` and kept."""
        if key not in self.rollouts:
            nones, rollouts = run()
            self.ran += len(nones) + len(rollouts)
            self.rollouts[key] = (nones, rollouts)
        return self.rollouts[key]


#: The field a lever sets, left out of a search's key: the size planned is where a search starts, not what
#: its pilots are (offices keep theirs: the register scales with the offices planned).
LEVER_FIELD = {"participants": ("referral", "target_participants"), "intake-weeks": ("referral", "intake_weeks")}


def search_key(kind: str, scenario: Scenario, by: str, horizon: int, seed: int, batch: int, *extra: Any) -> tuple:
    """What decides a search's pilots, whatever the analysis asks of them: the scenario with its lever's
    planned size set aside, the lever, horizon, root seed, batch, and for the joint evidence its ranges."""
    data = world_numbers(scenario)
    if by in LEVER_FIELD:
        section, name = LEVER_FIELD[by]
        data[section].pop(name, None)
    return kind, _hash(data), by, horizon, seed, batch, *map(_value_repr, extra)


def _value_repr(value: Any) -> str:
    """A key's text for an extra value: evidence ranges by their numbers and distribution (not their source)."""
    from labsim.design.evidence import Range

    if isinstance(value, tuple | list):
        return repr(tuple(_value_repr(v) for v in value))
    if isinstance(value, Range):
        return repr((value.path, value.low, value.central, value.high, value.distribution))
    return repr(value)
