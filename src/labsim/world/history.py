"""Every seeker's spell history, kept as a log of state changes, and the outcomes read from it.

The log holds one row per change of state (person, week, new state), plus everyone's state at week 0,
so that any outcome after any date can be read for anyone: employed N weeks after assignment, weeks
employed in a window, time to first job.
"""

from __future__ import annotations

import numpy as np

from labsim.config.states import is_employed


class History:
    """An append-only log of state changes, stored in growing numpy chunks."""

    def __init__(self) -> None:
        self._person: list[np.ndarray] = []
        self._week: list[np.ndarray] = []
        self._state: list[np.ndarray] = []
        self.last_week = -1

    def record(self, week: int, persons: np.ndarray, states: np.ndarray) -> None:
        """Log that `persons` entered `states` during `week` (the state they end the week in)."""
        self._person.append(np.array(persons, np.int32))  # copies: the log must not alias live arrays
        self._week.append(np.full(len(persons), week, np.int32))
        self._state.append(np.array(states, np.int8))
        self.last_week = week

    def log(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The whole log as three arrays (person, week, state), in recording order."""
        if not self._person:
            empty = np.zeros(0, np.int32)
            return empty, empty, np.zeros(0, np.int8)
        person = np.concatenate(self._person)
        week = np.concatenate(self._week)
        state = np.concatenate(self._state)
        self._person, self._week, self._state = [person], [week], [state]
        return person, week, state

    def left(self, state: int) -> tuple[np.ndarray, np.ndarray]:
        """Who left `state` and in which week (one row per departure), from the log."""
        person, week, new = self.log()
        order = np.argsort(person, kind="stable")  # the log is in week order: keeps it per person
        person, week, new = person[order], week[order], new[order]
        same = person[1:] == person[:-1]
        out = np.flatnonzero(same & (new[:-1] == state) & (new[1:] != state)) + 1
        return person[out].astype(np.int64), week[out].astype(np.int64)

    def timeline(self, persons: np.ndarray) -> np.ndarray:
        """States of `persons` (rows) in weeks 0..last_week (columns); -1 before their first record."""
        persons = np.asarray(persons, np.int64)
        n_weeks = self.last_week + 1
        out = np.full((persons.size, n_weeks), -1, np.int8)
        if persons.size == 0 or n_weeks <= 0:
            return out
        person, week, state = self.log()
        # each logged person's row (their first, if `persons` names someone twice), -1 for those not asked
        row_of = np.full(max(int(persons.max()), int(person.max(initial=0))) + 1, -1, np.int32)
        row_of[persons[::-1]] = np.arange(persons.size - 1, -1, -1, dtype=np.int32)
        rows = row_of[person]
        hit = rows >= 0
        rows = rows[hit]
        # mark where each row changes state, then carry each state forward to the next change
        stamp = np.full((persons.size, n_weeks), -1, np.int32 if hit.sum() < 2**31 else np.int64)
        stamp[rows, week[hit]] = np.arange(hit.sum())
        np.maximum.accumulate(stamp, axis=1, out=stamp)
        known = stamp >= 0
        out[known] = state[hit][stamp[known]]
        return out


def outcomes_after(
    timeline: np.ndarray, start_week: np.ndarray, horizons: tuple[int, ...], window: int = 52
) -> dict[str, np.ndarray]:
    """Employment outcomes measured from each person's own start week (e.g. their assignment).

    Returns, for each horizon h, `employed_h` (1.0/0.0, NaN when the run ends before start + h),
    `weeks_employed_<window>` over weeks start+1..start+window (NaN if the run ends first), and
    `weeks_to_first_job` (NaN if no job is seen before the run ends) with `first_job_seen`.
    """
    n, n_weeks = timeline.shape
    rows = np.arange(n)
    employed = is_employed(timeline)
    out: dict[str, np.ndarray] = {}
    for h in horizons:
        w = start_week + h
        ok = w < n_weeks
        val = np.full(n, np.nan)
        val[ok] = employed[rows[ok], w[ok]]
        out[f"employed_{h}w"] = val
    cum = np.concatenate([np.zeros((n, 1), np.int32), np.cumsum(employed, axis=1, dtype=np.int32)], 1)
    end = start_week + window
    ok = end < n_weeks
    weeks = np.full(n, np.nan)
    weeks[ok] = cum[rows[ok], end[ok] + 1] - cum[rows[ok], start_week[ok] + 1]
    out[f"weeks_employed_{window}w"] = weeks
    after = employed & (np.arange(n_weeks)[None, :] > start_week[:, None])
    seen = after.any(axis=1)
    first = np.where(seen, after.argmax(axis=1) - start_week, np.nan)
    out["weeks_to_first_job"] = first.astype(float)
    out["first_job_seen"] = seen
    return out


def sustained_job_within(counted: np.ndarray, start_week: np.ndarray, weeks_needed: int, window: int = 52
                         ) -> np.ndarray:
    """1.0 for each person who, within weeks start+1..start+`window`, completes `weeks_needed` consecutive
    weeks in a counted form of work (`counted`: persons x weeks, True in such work); with `weeks_needed`
    0, who starts such work at all. This is a job outcome as a payment-by-results contract counts it
    (the UK Work Programme's 12-month job-outcome rate: a job of 26 weeks reached within 12 months of
    referral). NaN when the run ends before start + `window`."""
    n, n_weeks = counted.shape
    need = max(int(weeks_needed), 1)
    out = np.full(n, np.nan)
    ok = start_week + window < n_weeks
    if not ok.any():
        return out
    cols = start_week[ok, None] + 1 + np.arange(window)[None, :]
    run = counted[np.flatnonzero(ok)[:, None], cols].astype(np.int32)
    cum = np.concatenate([np.zeros((run.shape[0], 1), np.int32), np.cumsum(run, axis=1)], axis=1)
    out[ok] = ((cum[:, need:] - cum[:, :-need]) == need).any(axis=1) if need <= window else 0.0
    return out
