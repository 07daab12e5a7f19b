"""Saved results read back from an output folder, whatever command wrote it.

A folder's kind is told by its files: a run (`summary.json`, `weekly.parquet`, `individuals.parquet`),
a size search (`size.json`), a diagnosis (`diagnosis.json`), a sensitivity analysis (`sensitivity.json`), a sweep (`results.parquet`), or a folder of
run folders (e.g. `runs/` holding a voluntary and a mandatory run). Charts and reports are drawn from
these files only, never by simulating again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from labsim.config.errors import LabsimError
from labsim.config.scenario import Scenario
from labsim.results.summary import RunResult

RUN_FILES = ("summary.json", "weekly.parquet", "individuals.parquet")
#: What charts and reports read from a run's summary.json (a damaged one is refused on one line).
SUMMARY_KEYS = ["weeks", "referral_mode", "participants", "employment_rate"]
KINDS = ("run", "size", "diagnose", "sensitivity", "sweep", "runs")


@dataclass
class Saved:
    """One output folder: its kind, its manifest and the tables a chart needs."""

    path: Path
    kind: str
    manifest: dict[str, Any]
    tables: dict[str, Any] = field(default_factory=dict)
    runs: list[Saved] = field(default_factory=list)  # a folder of run folders

    @property
    def scenario(self) -> dict[str, Any]:
        """The resolved scenario the folder was made from (empty if the manifest lacks it)."""
        return self.manifest.get("scenario") or {}

    @property
    def scenario_name(self) -> str:
        if self.kind == "runs":
            return ", ".join(sorted({r.scenario_name for r in self.runs}))
        return str(self.scenario.get("name") or self.tables.get("summary", {}).get("scenario") or self.path.name)

    @property
    def result(self) -> RunResult:
        """A run folder's results as the `RunResult` the simulation made."""
        t = self.tables
        return RunResult(t["weekly"], t["individuals"], t["employment_by_week"], t["summary"])


def kind_of(folder: Path) -> str:
    """The kind of output folder, told by its files; a clear error if it is none of them."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LabsimError(f"{folder}: no such folder")
    if all((folder / f).is_file() for f in RUN_FILES):
        return "run"
    for kind, marker in (("size", "size.json"), ("diagnose", "diagnosis.json"), ("sensitivity", "sensitivity.json"),
                         ("sweep", "results.parquet")):
        if (folder / marker).is_file():
            return kind
    if any(all((sub / f).is_file() for f in RUN_FILES) for sub in folder.iterdir() if sub.is_dir()):
        return "runs"
    raise LabsimError(
        f"{folder}: not a labsim output folder (expected {', '.join(RUN_FILES)} of a run, size.json, "
        "diagnosis.json, sensitivity.json, results.parquet, or run folders inside it)"
    )


def load(folder: Path) -> Saved:
    """Read an output folder of any kind."""
    folder = Path(folder)
    kind = kind_of(folder)
    if kind == "runs":
        subs = sorted(s for s in folder.iterdir() if s.is_dir() and kind_of_or_none(s) == "run")
        return Saved(folder, kind, {}, runs=[load(s) for s in subs])
    manifest = _json(folder / "manifest.json") if (folder / "manifest.json").is_file() else {}
    tables: dict[str, Any] = {}
    if kind == "run":
        tables["summary"] = _json(folder / "summary.json", SUMMARY_KEYS)
        tables["weekly"] = _parquet(folder / "weekly.parquet", ["week", "offers", "accepted", "referrals", "participants"])
        tables["individuals"] = _parquet(folder / "individuals.parquet", ["arm", "assigned_week", "first_job_seen", "weeks_to_first_job"])
        curve = folder / "employment_by_week.csv"
        tables["employment_by_week"] = (
            _numeric(curve, _csv(curve, ["weeks_since_assignment", "arm", "share_employed", "n"]),
                     ["weeks_since_assignment", "share_employed", "n"]) if curve.is_file() else None)
    elif kind == "size":
        from labsim.design.size_job import SizeAnswer  # the typed answer; its parts need scipy

        raw = _json(folder / "size.json")
        tables["size"] = SizeAnswer.from_json(raw, str(folder / "size.json"))
        tables["curve"] = _csv(folder / "power_curve.csv", ["size", "power", "power_se", "analytic_power", "mean_se"])
        tables["replications"] = _own_replications(folder, "size", raw, manifest)
    elif kind == "diagnose":
        from labsim.design.diagnose import Diagnosis

        raw = _json(folder / "diagnosis.json")
        tables["diagnosis"] = Diagnosis.from_json(raw, str(folder / "diagnosis.json"))
        tables["replications"] = _own_replications(folder, "diagnose", raw, manifest)
    elif kind == "sensitivity":
        tables["sensitivity"] = _json(folder / "sensitivity.json", ["method", "parameters", "at_size"])
    else:
        tables["results"] = _parquet(folder / "results.parquet", ["point", "replication"])
    return Saved(folder, kind, manifest, tables)


def kind_of_or_none(folder: Path) -> str | None:
    try:
        return kind_of(folder)
    except LabsimError:
        return None


def varied_parameters(results: pd.DataFrame) -> list[str]:
    """A sweep's varied scenario fields: columns named by a dotted scenario path (not a summary figure)."""
    return [
        c for c in results.columns
        if "." in c and c.split(".")[0] in Scenario.model_fields and not re.match(r"providers\.\d+\.", c)
    ]


def _json(path: Path, required: list[str] = ()) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise LabsimError(f"{path}: cannot read JSON ({err})") from None
    if not isinstance(data, dict):
        raise LabsimError(f"{path}: damaged (a JSON {type(data).__name__}, not an object); write the folder again")
    missing = [k for k in required if k not in data]
    if missing:
        raise LabsimError(f"{path}: damaged (missing key(s) {', '.join(missing)}); write the folder again")
    return data


def _numeric(path: Path, df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Refuse a table whose number columns hold something else (a file damaged or swapped)."""
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise LabsimError(f"{path}: damaged (column(s) {', '.join(bad)} not numbers); write the folder again")
    return df


def _check_columns(path: Path, df: pd.DataFrame, required: list[str]) -> pd.DataFrame:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise LabsimError(f"{path}: missing column(s) {', '.join(missing)}")
    return df


def _parquet(path: Path, required: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise LabsimError(f"{path}: cannot read Parquet ({err})") from None
    return _check_columns(path, df, required)


def _own_replications(folder: Path, kind: str, answer: dict[str, Any], manifest: dict[str, Any]) -> pd.DataFrame | None:
    """A size or diagnose folder's replications.parquet (None if absent), refused if the inputs hash in its
    metadata is not that of the folder's answer file and manifest (a file copied from another folder).
    A file without the hash (written before labsim recorded it) is read as it is."""
    from labsim.design.output import inputs_of
    from labsim.sweep.store import INPUTS_HASH, inputs_hash

    path = folder / "replications.parquet"
    if not path.is_file():
        return None
    df = _parquet(path, [])
    recorded = (pq.read_schema(path).metadata or {}).get(INPUTS_HASH)
    if recorded is not None and recorded != inputs_hash(inputs_of(answer, manifest)).encode():
        raise LabsimError(f"{path}: written by another {kind} run (its inputs hash does not match this folder's "
                          f"answer and manifest.json); run `labsim {kind}` again to write this folder")
    return df


def _csv(path: Path, required: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise LabsimError(f"{path}: cannot read CSV ({err})") from None
    return _check_columns(path, df, required)
