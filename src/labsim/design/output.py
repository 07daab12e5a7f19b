"""Output folders of `labsim diagnose`, `labsim size` and `labsim sensitivity`: the answer as JSON, every replication
(a sensitivity: every point) as Parquet, the power curve as CSV, and the manifest, written atomically (all or nothing).

replications.parquet (a sensitivity's points.parquet) records in its Parquet metadata the hash of what it was
made from (`inputs_of`: the resolved scenario, the seed and the answer's settings, as read back from the
folder's own files), so a reader can refuse one copied in from another folder (report/saved.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from labsim.results.output import manifest, staged_dir, write_json
from labsim.sweep.store import INPUTS_HASH, inputs_hash

if TYPE_CHECKING:  # the scenario's schema (pydantic) only for its type: reading a folder needs none
    from labsim.config.scenario import Scenario
    from labsim.design.diagnose import Diagnosis
    from labsim.design.sensitivity import Sensitivity
    from labsim.design.size_job import SizeRun


#: A diagnosis's settings in diagnosis.json (a size answer's are its `question`).
DIAGNOSE_SETTINGS = ("sims", "counterfactual_sims", "horizon_weeks", "alpha", "design")
#: A sensitivity's settings in sensitivity.json, with the ranges varied (`parameters`).
SENSITIVITY_SETTINGS = ("method", "by", "at_size", "sims", "sims_first", "max_sims", "resolution", "trajectories",
                        "horizon_weeks", "alpha", "seed", "parameters")


def inputs_of(answer: dict[str, Any], manifest: dict[str, Any], settings: tuple[str, ...] = DIAGNOSE_SETTINGS,
              ) -> dict[str, Any]:
    """What a folder's table was made from, read from its answer file and manifest.json (`settings`: the
    answer's keys that count, when it has no `question`)."""
    asked = answer.get("question") or {k: answer.get(k) for k in settings}
    return {"scenario": manifest.get("scenario"), "seed": manifest.get("seed"), "settings": asked}


def _write_replications(folder: Path, rows: pd.DataFrame, answer_file: str, name: str = "replications.parquet",
                        settings: tuple[str, ...] = DIAGNOSE_SETTINGS) -> None:
    """The folder's table (`name`), stamped with the hash of the inputs its folder's files (written first) name."""
    answer, made = (json.loads((folder / f).read_text(encoding="utf-8")) for f in (answer_file, "manifest.json"))
    table = pa.Table.from_pandas(rows, preserve_index=False)
    stamp = inputs_hash(inputs_of(answer, made, settings))
    pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), INPUTS_HASH: stamp.encode()}),
                   folder / name)


def write_diagnosis_folder(
    out_dir: Path, answer: Diagnosis, rows: pd.DataFrame, scenario: Scenario, *, source: str, overrides: list[str],
    force: bool = False, also: Callable[[Path], object] | None = None,
) -> Path:
    """Write diagnosis.json (the typed answer, docs/formats.md), replications.parquet and manifest.json,
    atomically."""
    with staged_dir(Path(out_dir), force) as tmp:
        write_json(tmp / "diagnosis.json", answer.to_json())
        write_json(tmp / "manifest.json", manifest(scenario, source, answer.seed, scenario.weeks, overrides))
        _write_replications(tmp, rows, "diagnosis.json")
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
        pd.DataFrame([asdict(p) for p in answer.power_curve]).to_csv(tmp / "power_curve.csv", index=False)
        write_json(tmp / "manifest.json", manifest(scenario, source, answer.question.seed, scenario.weeks, overrides))
        _write_replications(tmp, done.rows, "size.json")
        if also is not None:
            also(tmp)
    return Path(out_dir)


def write_sensitivity_folder(
    out_dir: Path, answer: Sensitivity, scenario: Scenario, *, source: str, overrides: list[str],
    force: bool = False, also: Callable[[Path], object] | None = None,
) -> Path:
    """Write sensitivity.json (the typed answer, docs/formats.md), points.csv and points.parquet (every point
    simulated; the Parquet stamped with its inputs' hash) and manifest.json, atomically."""
    with staged_dir(Path(out_dir), force) as tmp:
        write_json(tmp / "sensitivity.json", answer.to_json())
        points = answer.points_table()
        points.to_csv(tmp / "points.csv", index=False)
        write_json(tmp / "manifest.json", manifest(scenario, source, answer.seed, scenario.weeks, overrides))
        _write_replications(tmp, points, "sensitivity.json", "points.parquet", SENSITIVITY_SETTINGS)
        if also is not None:
            also(tmp)
    return Path(out_dir)
