"""Output folders of `labsim diagnose`, `labsim size` and `labsim sensitivity`: the answer as JSON, every replication as
Parquet, the power curve as CSV, and the manifest, written atomically (all or nothing)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from labsim.config.scenario import Scenario
from labsim.results.output import manifest, staged_dir, write_json

if TYPE_CHECKING:
    from labsim.design.size_job import SizeRun


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_design_folder(
    out_dir: Path, name: str, answer: dict[str, Any], rows: pd.DataFrame, scenario: Scenario, *,
    source: str, seed: int, overrides: list[str], force: bool = False,
    also: Callable[[Path], object] | None = None,
) -> Path:
    """Write `<name>.json`, replications.parquet and manifest.json."""
    with staged_dir(Path(out_dir), force) as tmp:
        write_json(tmp / f"{name}.json", _clean(answer))
        rows.to_parquet(tmp / "replications.parquet", index=False)
        write_json(tmp / "manifest.json", manifest(scenario, source, seed, scenario.weeks, overrides))
        if also is not None:
            also(tmp)
    return Path(out_dir)


def write_size_folder(
    out_dir: Path, done: SizeRun, scenario: Scenario, *, source: str, overrides: list[str], force: bool = False,
    also: Callable[[Path], object] | None = None,
) -> Path:
    """Write size.json (the typed answer, docs/formats.md), replications.parquet, power_curve.csv and
    manifest.json, atomically."""
    answer = done.answer
    with staged_dir(Path(out_dir), force) as tmp:
        write_json(tmp / "size.json", answer.to_json())
        done.rows.to_parquet(tmp / "replications.parquet", index=False)
        pd.DataFrame([asdict(p) for p in answer.power_curve]).to_csv(tmp / "power_curve.csv", index=False)
        write_json(tmp / "manifest.json", manifest(scenario, source, answer.question.seed, scenario.weeks, overrides))
        if also is not None:
            also(tmp)
    return Path(out_dir)


def as_json(answer: dict[str, Any]) -> dict[str, Any]:
    return _clean(answer)


def write_sensitivity_folder(
    out_dir: Path, answer: dict[str, Any], scenario: Scenario, *, source: str, seed: int, overrides: list[str],
    force: bool = False, also: Callable[[Path], object] | None = None,
) -> Path:
    """Write sensitivity.json, points.csv (every point simulated) and manifest.json, atomically."""
    with staged_dir(Path(out_dir), force) as tmp:
        write_json(tmp / "sensitivity.json", _clean(answer))
        pd.DataFrame(answer["points"]).to_csv(tmp / "points.csv", index=False)
        write_json(tmp / "manifest.json", manifest(scenario, source, seed, scenario.weeks, overrides))
        if also is not None:
            also(tmp)
    return Path(out_dir)
