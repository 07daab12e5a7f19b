"""The one place that checks command-line values: argparse types with the documented ceilings.

Every sub-command declares its options with these types (`type=fraction`, `type=count(MAX_SIMS)`,
`type=seed`, `type=workers`, `type=out_dir`, ...), so a bad value is refused before any work starts, on one line that
names the option and what is allowed, with exit 2 (`labsim.cli.main`). Checks that need the scenario
(`check_horizon`) run right after it is loaded. The ceilings are listed in docs/experiments.md
("Errors and limits") and in each option's --help.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable

from labsim.config.errors import LabsimError

#: Simulated pilots one `diagnose` may run (each a whole simulation; 200 is the default).
MAX_SIMS = 100_000
#: Simulated pilots per size tried by `size`, and in the whole search.
MAX_BATCH = 10_000
MAX_BUDGET = 100_000
#: Worker processes (more than the machine's cores only queue).
MAX_WORKERS = 1_024
#: Root seeds: any whole number numpy's SeedSequence takes in 64 bits.
MAX_SEED = 2**63 - 1

Check = Callable[[str], object]


def _whole(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number (got {text[:40]!r})") from None


def count(ceiling: int, low: int = 1, why: str = "") -> Callable[[str], int]:
    """A whole number from `low` to `ceiling` (e.g. `type=count(MAX_SIMS)`); `why` is added to a refusal."""
    def check(text: str) -> int:
        value = _whole(text)
        if not low <= value <= ceiling:
            raise argparse.ArgumentTypeError(
                f"must be a whole number {low} or more and at most {ceiling:,} (got {text[:40]}){why}")
        return value

    check.__name__ = "whole number"  # what argparse shows on a failed conversion
    return check


def fraction(text: str) -> float:
    """A number strictly between 0 and 1: a significance level, a target power."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, exclusive (got {text[:40]!r})")
    return value


def seed(text: str) -> int:
    """A root seed: a whole number from 0 to 2^63 - 1."""
    value = _whole(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number 0 or more and at most 2^63 - 1 (got {text[:40]})")
    return value


workers = count(MAX_WORKERS)


def weeks(text: str) -> int:
    """Pilot weeks to simulate: 1 to the scenario schema's ceiling (520)."""
    from labsim.config.parts import LIMITS_DOC, MAX_WEEKS  # imported when used: pydantic is slow to load

    return count(MAX_WEEKS, why=f"; {LIMITS_DOC}")(text)


def size(text: str) -> int:
    """A count the scenario schema also bounds (replications, pilot sizes): 1 to its MAX_COUNT."""
    from labsim.config.parts import LIMITS_DOC, MAX_COUNT

    return count(MAX_COUNT, why=f"; {LIMITS_DOC}")(text)


def _not_a_root(text: str, what: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must name a {what} (got an empty path)")
    path = os.path.abspath(text)
    if os.path.dirname(path) == path:
        raise argparse.ArgumentTypeError(f"must not be a filesystem root (got {text!r})")
    if os.path.commonpath([path, os.getcwd()]) == path:
        raise argparse.ArgumentTypeError(f"must not be the current folder or one that holds it (got {text!r})")
    return text


def out_dir(text: str) -> str:
    """An output folder: not empty, not a filesystem root, not the current folder or one above it
    (`--force` replaces the folder)."""
    return _not_a_root(text, "folder")


def out_file(text: str) -> str:
    """An output file: not empty, not a folder."""
    _not_a_root(text, "file")
    if text.endswith(("/", os.sep)) or os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"must be a file, not a folder (got {text!r})")
    return text


def horizon(text: str) -> int:
    """Weeks after assignment employment is measured: a horizon every run records (13, 26 or 52)."""
    from labsim.results.summary import HORIZONS

    value = _whole(text)
    if value not in HORIZONS:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(map(str, HORIZONS))} weeks (got {text[:40]})")
    return value


def check_horizon(horizon: int, weeks_simulated: int) -> None:
    """`--horizon` no longer than the weeks simulated (checked once the scenario is loaded)."""
    if horizon > weeks_simulated:
        raise LabsimError(f"--horizon {horizon} is longer than the {weeks_simulated} weeks simulated; "
                          "use a shorter --horizon or more weeks (--set weeks=N)")


def check_out_file(option: str, path: str | os.PathLike[str]) -> None:
    """An output file that can be written where it is named: its folder exists and takes a new file
    (tried, not guessed). Checked before the work, so a long run never ends on a path it cannot write."""
    from labsim.results.output import check_writable

    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise LabsimError(f"{option} {path}: the folder {parent} does not exist")
    try:
        check_writable(path)
    except LabsimError as err:
        raise LabsimError(f"{option} {err}") from None


class Parser(argparse.ArgumentParser):
    """An argument parser whose refusals are one line (`labsim: error: ...`, exit 2) raised as
    `UsageError`, so that `labsim.cli.main` reports them like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


class UsageError(LabsimError):
    """A command line argparse refused."""
