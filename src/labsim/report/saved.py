"""Saved results read back from an output folder, whatever command wrote it: one class per kind.

A folder's kind is told by its files: a run (`summary.json`, `weekly.parquet`, `individuals.parquet`),
a size search (`size.json`), a diagnosis (`diagnosis.json`), a sensitivity analysis (`sensitivity.json`),
a calibration (`calibration.json`), a validation (`validation.json`), a plan (`plan.json`), a sweep
(`results.parquet`), or a folder of run folders (e.g. `runs/` holding a voluntary and a mandatory run). `load(folder)` reads it as its class (`RunFolder`, `SizeFolder`, ...), each holding its
typed answer and tables and saying, in the planner's language, its question (`question`), its answer
(`answer`: the verdict and the rows, as the command's terminal table) and its charts (`figures`). Charts
and reports are drawn from these files only, never by simulating again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd
import pyarrow.parquet as pq
from matplotlib.figure import Figure

from labsim.config.choices import ReferralMode
from labsim.config.errors import LabsimError
from labsim.report import calibration, comparisons, plan, plots, sensitivity, sizing
from labsim.report.i18n import number, percent, text
from labsim.report.levers import lever_name, lever_value
from labsim.report.style import footnote, localise_ticks
from labsim.results.summary import RunResult, RunSummary

if TYPE_CHECKING:
    from labsim.report.answers import Answer
    from labsim.design.calibrate import Calibration
    from labsim.design.diagnose import Diagnosis
    from labsim.design.plan import Plan
    from labsim.design.validation import Validation
    from labsim.design.sensitivity import Sensitivity
    from labsim.design.size_answer import SizeAnswer


def _answers():
    """report/answers.py, imported when a folder's answer is asked (its report), not for its charts alone."""
    from labsim.report import answers

    return answers


RUN_FILES = ("summary.json", "weekly.parquet", "individuals.parquet")
SUMMARY_KEYS = ["weeks", "referral_mode", "participants", "employment_rate"]


@dataclass(frozen=True, eq=False)
class Saved:
    """One output folder: where it is and its manifest; each kind adds its answer and tables, and says
    its question, answer and charts."""

    kind: ClassVar[str]  # the command that writes it (`labsim size` -> "size"); "runs" for run folders
    marker: ClassVar[str]  # the file that tells the kind

    path: Path
    manifest: dict[str, Any]

    @classmethod
    def holds(cls, folder: Path) -> bool:
        """Whether `folder` is of this kind (told by its files)."""
        return (folder / cls.marker).is_file()

    @property
    def scenario(self) -> dict[str, Any]:
        """The resolved scenario the folder was made from (empty if the manifest lacks it)."""
        return self.manifest.get("scenario") or {}

    @property
    def scenario_name(self) -> str:
        return str(self.scenario.get("name") or self.path.name)

    def title(self, lang: str) -> str:
        return text("r_title", lang, scenario=self.scenario_name)

    def question(self, lang: str) -> str:
        """The planner's question the folder answers."""
        return text(f"q_{self.kind}", lang)

    def answer(self, lang: str) -> Answer:
        """The verdict and the rows behind it (built by the same code as the command's terminal table)."""
        raise NotImplementedError

    def detail(self, lang: str) -> str:
        """The charts' footnote after the scenario: which seed, how many simulated pilots."""
        raise NotImplementedError

    def charts(self, note: str, lang: str) -> dict[str, Figure | None]:
        """The folder's charts by file name, in reading order (None where one does not apply)."""
        raise NotImplementedError

    def figures(self, lang: str = "en") -> dict[str, Figure]:
        """The charts that apply, with the footnote and the language's number format."""
        drawn = self.charts(footnote(self.scenario_name, self.detail(lang), lang), lang)
        figs = {name: fig for name, fig in drawn.items() if fig is not None}
        for fig in figs.values():
            localise_ticks(fig, lang)
        return figs

    def varies(self, lang: str) -> list[tuple[str, str]]:
        """What varies between the folder's runs, by name, with its values (nothing for one answer)."""
        return []

    @property
    def replications(self) -> pd.DataFrame | None:
        """Every simulated pilot (replications.parquet), where the folder has them."""
        return None


@dataclass(frozen=True, eq=False)
class RunFolder(Saved):
    """`labsim run`: one simulated pilot's summary, weekly series and everyone's outcomes."""

    kind: ClassVar[str] = "run"
    marker: ClassVar[str] = "summary.json"

    summary: RunSummary
    weekly: pd.DataFrame
    individuals: pd.DataFrame
    employment_by_week: pd.DataFrame | None

    @classmethod
    def holds(cls, folder: Path) -> bool:
        return all((folder / f).is_file() for f in RUN_FILES)

    @classmethod
    def read(cls, folder: Path, manifest: dict[str, Any]) -> RunFolder:
        curve = folder / "employment_by_week.csv"
        return cls(
            folder, manifest, RunSummary.from_json(
                _whole_summary(folder / "summary.json", _json(folder / "summary.json", SUMMARY_KEYS)),
                str(folder / "summary.json")),
            _parquet(folder / "weekly.parquet", ["week", "offers", "accepted", "referrals", "participants"]),
            _parquet(folder / "individuals.parquet", ["arm", "assigned_week", "first_job_seen", "weeks_to_first_job"]),
            _numeric(curve, _csv(curve, ["weeks_since_assignment", "arm", "share_employed", "n"]),
                     ["weeks_since_assignment", "share_employed", "n"]) if curve.is_file() else None)

    @property
    def scenario_name(self) -> str:
        return str(self.scenario.get("name") or self.summary.scenario)

    @property
    def result(self) -> RunResult:
        """The run's results as the `RunResult` the simulation made."""
        return RunResult(self.weekly, self.individuals, self.employment_by_week, self.summary)

    def question(self, lang: str) -> str:
        mode = self.summary.referral_mode
        return text("q_run", lang, target=number(self.summary.participants.target, lang),
                    mode=text(mode, lang).lower() if mode in ReferralMode else mode)

    def answer(self, lang: str) -> Answer:
        primary = (self.scenario.get("design") or {}).get("primary_horizon_weeks", 26)  # folders before it: 26
        return _answers().run_answer(self.summary, lang, primary)

    def detail(self, lang: str) -> str:
        seed = text("seed", lang, seed=self.manifest.get("seed", "?"))
        mode = self.summary.referral_mode
        return f"{seed}, {text(mode, lang).lower()}" if mode in ReferralMode else seed

    def charts(self, note: str, lang: str) -> dict[str, Figure | None]:
        result, summary = self.result, self.summary
        frame, _ = comparisons.frame_of_runs([summary], [self.scenario])
        figs: dict[str, Figure | None] = {
            "volume": plots.volume_chart([(text(summary.referral_mode, lang), result.weekly,
                                           summary.participants.target)], note, lang),
            "stocks": plots.stocks_chart(result, note, lang),
        }
        if result.employment_by_week is not None:
            figs["employment_by_arm"] = plots.employment_chart(result, note, lang)
        figs["survival_by_arm"] = plots.survival_chart(result, note, lang)
        lines = plots.provider_lines(summary)
        if lines:
            names = [text("provider_n", lang, n=line["provider"] + 1) for line in lines]
            figs["provider_profit"] = plots.profit_chart(lines, names, note, lang)
        figs["effort_by_employability"] = comparisons.effort_chart(frame, ["payment.preset"], note, lang)
        figs["cost_per_extra_job"] = comparisons.cost_chart(frame, ["payment.preset"], note, lang)
        return figs

    def label(self, lang: str) -> str:
        """The run's name beside others': its referral mode and its folder."""
        mode = self.summary.referral_mode
        return f"{text(mode, lang) if mode in ReferralMode else self.path.name} ({self.path.name})"


@dataclass(frozen=True, eq=False)
class SizeFolder(Saved):
    """`labsim size`: the size answer, its power curve and every simulated pilot."""

    kind: ClassVar[str] = "size"
    marker: ClassVar[str] = "size.json"

    size: SizeAnswer
    curve: pd.DataFrame
    pilots: pd.DataFrame | None

    @classmethod
    def read(cls, folder: Path, manifest: dict[str, Any]) -> SizeFolder:
        from labsim.design.output import DIAGNOSE_SETTINGS
        from labsim.design.size_answer import SizeAnswer

        raw = _json(folder / "size.json")
        return cls(folder, manifest, SizeAnswer.from_json(raw, str(folder / "size.json")),
                   _csv(folder / "power_curve.csv", ["size", "power", "power_se", "analytic_power", "mean_se"]),
                   _own_replications(folder, "size", raw, manifest, "replications.parquet", DIAGNOSE_SETTINGS))

    @property
    def replications(self) -> pd.DataFrame | None:
        return self.pilots

    def question(self, lang: str) -> str:
        q = self.size.question
        return text(f"q_size_{q.estimand}", lang, power=percent(q.target_power, lang),
                    alpha=number(q.alpha, lang, 2))

    def answer(self, lang: str) -> Answer:
        return _answers().size_answer(self.size, lang)

    def detail(self, lang: str) -> str:
        if "sims" in self.curve:
            return text("sims_detail", lang, sims=number(int(self.curve["sims"].max()), lang))
        return text("sims_detail_diagnose", lang, sims=number(0 if self.pilots is None else len(self.pilots), lang))

    def charts(self, note: str, lang: str) -> dict[str, Figure | None]:
        figs = {"power_curve": sizing.power_chart(self.size, self.curve, note, lang, self.pilots),
                "minimum_detectable_effect": sizing.mde_chart(self.size, self.curve, note, lang)}
        near = sizing.near_minimum(self.size, self.pilots)
        if near is not None and "estimate" in near:
            figs["estimates"] = sizing.estimates_chart(near, note, lang)
        return figs


@dataclass(frozen=True, eq=False)
class DiagnosisFolder(Saved):
    """`labsim diagnose`: the diagnosis and every simulated pilot."""

    kind: ClassVar[str] = "diagnose"
    marker: ClassVar[str] = "diagnosis.json"

    diagnosis: Diagnosis
    pilots: pd.DataFrame | None

    @classmethod
    def read(cls, folder: Path, manifest: dict[str, Any]) -> DiagnosisFolder:
        from labsim.design.diagnose import Diagnosis
        from labsim.design.output import DIAGNOSE_SETTINGS

        raw = _json(folder / "diagnosis.json")
        return cls(folder, manifest, Diagnosis.from_json(raw, str(folder / "diagnosis.json")),
                   _own_replications(folder, "diagnose", raw, manifest, "replications.parquet", DIAGNOSE_SETTINGS))

    @property
    def replications(self) -> pd.DataFrame | None:
        return self.pilots

    def answer(self, lang: str) -> Answer:
        return _answers().diagnose_answer(self.diagnosis, self.pilots, lang)

    def detail(self, lang: str) -> str:
        return text("sims_detail_diagnose", lang, sims=number(0 if self.pilots is None else len(self.pilots), lang))

    def charts(self, note: str, lang: str) -> dict[str, Figure | None]:
        if self.pilots is None or "estimate" not in self.pilots:
            return {}
        return {"estimates": sizing.estimates_chart(self.pilots, note, lang)}


@dataclass(frozen=True, eq=False)
class SensitivityFolder(Saved):
    """`labsim sensitivity`: which assumption moves the power most."""

    kind: ClassVar[str] = "sensitivity"
    marker: ClassVar[str] = "sensitivity.json"

    sensitivity: Sensitivity
    points: pd.DataFrame | None  # every point simulated (points.parquet), refused if from another run

    @classmethod
    def read(cls, folder: Path, manifest: dict[str, Any]) -> SensitivityFolder:
        from labsim.design.output import SENSITIVITY_SETTINGS
        from labsim.design.sensitivity import Sensitivity

        raw = _json(folder / "sensitivity.json")
        return cls(folder, manifest, Sensitivity.from_json(raw, str(folder / "sensitivity.json")),
                   _own_replications(folder, "sensitivity", raw, manifest, "points.parquet", SENSITIVITY_SETTINGS))

    def answer(self, lang: str) -> Answer:
        return _answers().sensitivity_answer(self.sensitivity, lang)

    def detail(self, lang: str) -> str:
        d = self.sensitivity
        return text("sens_detail", lang, sims=number(d.sims, lang), points=number(len(d.points), lang))

    def charts(self, note: str, lang: str) -> dict[str, Figure | None]:
        return {"sensitivity": sensitivity.sensitivity_chart(self.sensitivity, note, lang)}


@dataclass(frozen=True, eq=False)
class CalibrationFolder(Saved):
    """`labsim calibrate`: the fitted values and each target beside its simulation."""

    kind: ClassVar[str] = "calibrate"
    marker: ClassVar[str] = "calibration.json"

    calibration: Calibration

    @classmethod
    def read(cls, folder: Path, manifest: dict[str, Any]) -> CalibrationFolder:
        from labsim.design.calibrate import Calibration

        return cls(folder, manifest, Calibration.from_json(_json(folder / "calibration.json"),
                                                           str(folder / "calibration.json")))

    @property
    def scenario(self) -> dict[str, Any]:
        """The scenario the calibration started from (its store's manifest records it)."""
        return (self.manifest.get("identity") or {}).get("scenario") or {}

    @property
    def scenario_name(self) -> str:
        return self.calibration.scenario

    def answer(self, lang: str) -> Answer:
        return _answers().calibration_answer(self.calibration, lang)

    def detail(self, lang: str) -> str:
        return text("calibration_detail", lang, runs=self.calibration.runs)

    def charts(self, note: str, lang: str) -> dict[str, Figure | None]:
        return {"calibration": calibration.calibration_figure(self.calibration, note, lang)}


@dataclass(frozen=True, eq=False)
class ValidationFolder(Saved):
    """`labsim validation`: the published claims beside the simulation."""

    kind: ClassVar[str] = "validation"
    marker: ClassVar[str] = "validation.json"

    validation: Validation

    @classmethod
    def read(cls, folder: Path, manifest: dict[str, Any]) -> ValidationFolder:
        from labsim.design.validation import Validation

        return cls(folder, manifest, Validation.from_json(_json(folder / "validation.json"),
                                                          str(folder / "validation.json")))

    @property
    def scenario_name(self) -> str:
        return self.validation.scenario

    def answer(self, lang: str) -> Answer:
        return _answers().validation_answer(self.validation, lang)

    def detail(self, lang: str) -> str:
        return text("val_detail", lang, reps=self.validation.replications, seed=self.validation.seed)

    def charts(self, note: str, lang: str) -> dict[str, Figure | None]:
        return {}


@dataclass(frozen=True, eq=False)
class PlanFolder(Saved):
    """`labsim plan`: the pilot to buy among the candidates, and every candidate's figures."""

    kind: ClassVar[str] = "plan"
    marker: ClassVar[str] = "plan.json"

    plan: Plan

    @classmethod
    def read(cls, folder: Path, manifest: dict[str, Any]) -> PlanFolder:
        from labsim.design.plan import Plan

        return cls(folder, manifest, Plan.from_json(_json(folder / "plan.json"), str(folder / "plan.json")))

    @property
    def scenario_name(self) -> str:
        return self.plan.scenario

    def question(self, lang: str) -> str:
        p = self.plan
        if p.max_cost_eur is None:
            return text("q_plan_target", lang, a=percent(p.target_assurance, lang))
        return text("q_plan_budget", lang, budget=text("plan_meur", lang, m=number(p.max_cost_eur / 1e6, lang, 1)))

    def answer(self, lang: str) -> Answer:
        return _answers().plan_answer(self.plan, lang)

    def detail(self, lang: str) -> str:
        return plan.detail(self.plan, lang)

    def charts(self, note: str, lang: str) -> dict[str, Figure | None]:
        return {"plan_pareto": plan.pareto_figure(self.plan, note, lang)}


@dataclass(frozen=True, eq=False)
class SweepFolder(Saved):
    """`labsim sweep`: one row per point x replication (results.parquet)."""

    kind: ClassVar[str] = "sweep"
    marker: ClassVar[str] = "results.parquet"

    results: pd.DataFrame

    @classmethod
    def read(cls, folder: Path, manifest: dict[str, Any]) -> SweepFolder:
        _check_store(folder, manifest)
        return cls(folder, manifest, _parquet(folder / "results.parquet", ["point", "replication"]))

    def title(self, lang: str) -> str:
        """A sweep is titled by its experiment, not its folder."""
        name = self.manifest.get("name")
        return text("r_sweep_title", lang, name=name) if name else super().title(lang)

    def question(self, lang: str) -> str:
        names = [lever_name(p, lang) for p in varied_parameters(self.results)]
        return text("q_sweep", lang, varied=", ".join(names) or "-")

    def answer(self, lang: str) -> Answer:
        return _answers().variants_answer(self.results, varied_parameters(self.results), lang)

    def detail(self, lang: str) -> str:
        r = self.results
        return text("sweep_detail", lang, points=r["point"].nunique(), reps=r["replication"].nunique())

    def charts(self, note: str, lang: str) -> dict[str, Figure | None]:
        return _comparisons(self.results, varied_parameters(self.results), note, lang)

    def varies(self, lang: str) -> list[tuple[str, str]]:
        """The sweep's levers by name, with the values they take, in the planner's words."""
        out = []
        for path in varied_parameters(self.results):
            values = pd.unique(self.results[path].dropna())
            name = lever_name(path, lang)
            out.append((name[:1].upper() + name[1:], ", ".join(lever_value(path, v, lang) for v in values)))
        return out


@dataclass(frozen=True, eq=False)
class RunsFolder(Saved):
    """A folder of run folders (e.g. a voluntary and a mandatory run), compared as variants."""

    kind: ClassVar[str] = "runs"

    runs: tuple[RunFolder, ...]

    @classmethod
    def holds(cls, folder: Path) -> bool:
        return any(RunFolder.holds(sub) for sub in folder.iterdir() if sub.is_dir())

    @classmethod
    def read(cls, folder: Path, manifest: dict[str, Any]) -> RunsFolder:
        subs = sorted(s for s in folder.iterdir() if s.is_dir() and kind_of_or_none(s) is RunFolder)
        return cls(folder, {}, tuple(load(s) for s in subs))

    @property
    def scenario(self) -> dict[str, Any]:
        return self.runs[0].scenario if self.runs else {}

    @property
    def scenario_name(self) -> str:
        return ", ".join(sorted({r.scenario_name for r in self.runs}))

    def question(self, lang: str) -> str:
        return text("q_runs", lang, names=", ".join(r.path.name for r in self.runs))

    def frame(self) -> tuple[pd.DataFrame, list[str]]:
        """The runs as a sweep's rows, and the scenario fields that differ between them."""
        return comparisons.frame_of_runs([r.summary for r in self.runs], [r.scenario for r in self.runs])

    def answer(self, lang: str) -> Answer:
        return _answers().variants_answer(*self.frame(), lang)  # runs of one scenario pool as replications

    def detail(self, lang: str) -> str:
        return text("runs_detail", lang, n=len(self.runs))

    def charts(self, note: str, lang: str) -> dict[str, Figure | None]:
        if not self.runs:
            return {}
        frame, varied = self.frame()
        panels = [(r.label(lang), r.weekly, r.summary.participants.target) for r in self.runs]
        return {"volume": plots.volume_chart(panels, note, lang), **_comparisons(frame, varied, note, lang)}


#: Every kind, in the order a folder is told: a run's files first, a folder of runs last.
KINDS: tuple[type[Saved], ...] = (RunFolder, SizeFolder, DiagnosisFolder, SensitivityFolder, CalibrationFolder,
                                  ValidationFolder, PlanFolder, SweepFolder, RunsFolder)


def kind_of(folder: Path) -> type[Saved]:
    """The kind of output folder, told by its files; a clear error if it is none of them."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LabsimError(f"{folder}: no such folder")
    found = next((kind for kind in KINDS if kind.holds(folder)), None)
    if found is None:
        raise LabsimError(
            f"{folder}: not a labsim output folder (expected {', '.join(RUN_FILES)} of a run, size.json, "
            "diagnosis.json, sensitivity.json, calibration.json, validation.json, plan.json, results.parquet, "
            "or run folders inside it)")
    return found


def _check_store(folder: Path, manifest: dict[str, Any]) -> None:
    """A sweep's results.parquet is read only if it is whole and its own: the inputs hash in its metadata is
    that of the folder's manifest (not one copied in from another store). A calibration's folder, a store
    too, is told by its calibration.json first and read as a `CalibrationFolder`."""
    if "identity" not in manifest:  # no store's manifest: the table is read as it is
        return
    from labsim.sweep.store import Store

    Store(folder).check()


#: Each horizon's block of `employment_rate` in summary.json (results/summary.py `difference`): numbers or null
#: (the later keys may be absent in a folder of an earlier labsim), the test's name a word or null.
EFFECT_KEYS = ("pilot", "control", "difference", "se", "ci_low", "ci_high", "p_value")
LATER_EFFECT_KEYS = ("n_pilot", "n_control", "p_value_mc_se", "clusters")
#: Each provider's books in summary.json (results/summary.py `accounts_summary`) that the charts read.
PROVIDER_KEYS = ("provider", "clients", "revenue_eur", "cost_eur", "setup_cost_eur", "profit_eur", "break_even_clients")


def _whole_summary(path: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """Refuse a summary.json whose headline blocks (participants, the effect at each horizon, the providers'
    books) have lost a key or hold something else than a number: a damaged file is named, never half-drawn."""
    from labsim.results.summary import HORIZONS

    def number(x: Any) -> bool:
        return x is None or (isinstance(x, int | float) and not isinstance(x, bool))

    rates, reached = summary["employment_rate"], summary["participants"]
    bad = [] if isinstance(reached, dict) and all(number(reached.get(k, "")) for k in ("reached", "target")) \
        else ["participants"]
    for h in HORIZONS:
        block = rates.get(f"{h}w") if isinstance(rates, dict) else None
        if not isinstance(block, dict) or not all(number(block.get(k, "")) for k in EFFECT_KEYS) \
                or not all(number(block.get(k)) for k in LATER_EFFECT_KEYS) \
                or not isinstance(block.get("test"), str | None):
            bad.append(f"employment_rate.{h}w")
    providers = summary.get("providers", [])
    if not isinstance(providers, list) or not all(
            isinstance(p, dict) and all(number(p.get(k, "")) for k in PROVIDER_KEYS) for p in providers):
        bad.append("providers")
    if bad:
        raise LabsimError(f"{path}: damaged ({', '.join(bad)} not whole); write the folder again")
    return summary


def kind_of_or_none(folder: Path) -> type[Saved] | None:
    try:
        return kind_of(folder)
    except LabsimError:
        return None


def load(folder: Path) -> Saved:
    """Read an output folder of any kind, as its class."""
    folder = Path(folder)
    kind = kind_of(folder)
    manifest = _json(folder / "manifest.json") if (folder / "manifest.json").is_file() else {}
    return kind.read(folder, manifest)


def varied_parameters(results: pd.DataFrame) -> list[str]:
    """A sweep's varied scenario fields: columns named by a dotted scenario path (not a summary figure)."""
    from labsim.config.scenario import Scenario  # here: only a sweep's table needs the schema's sections

    return [
        c for c in results.columns
        if "." in c and c.split(".")[0] in Scenario.model_fields and not re.match(r"providers\.\d+\.", c)
    ]


def _comparisons(frame: pd.DataFrame, varied: list[str], note: str, lang: str) -> dict[str, Figure | None]:
    return {
        "volume_by_referral": comparisons.referral_volume_chart(frame, varied, note, lang),
        "effort_by_employability": comparisons.effort_chart(frame, varied, note, lang),
        "provider_profit": comparisons.profit_comparison_chart(frame, varied, note, lang),
        "cost_per_extra_job": comparisons.cost_chart(frame, varied, note, lang),
        "displacement": comparisons.displacement_chart(frame, varied, note, lang),
    }


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


def _own_replications(folder: Path, kind: str, answer: dict[str, Any], manifest: dict[str, Any], name: str,
                      settings: tuple[str, ...]) -> pd.DataFrame | None:
    """A size or diagnose folder's replications.parquet, a sensitivity folder's points.parquet (None if absent),
    refused if the inputs hash in its metadata is not that of the folder's answer file and manifest (the
    answer's `settings` and the scenario: a file copied from another folder). A file without the hash
    (written before labsim recorded it) is read as it is."""
    from labsim.design.output import inputs_of
    from labsim.sweep.store import INPUTS_HASH, inputs_hash

    path = folder / name
    if not path.is_file():
        return None
    df = _parquet(path, [])
    recorded = (pq.read_schema(path).metadata or {}).get(INPUTS_HASH)
    if recorded is not None and recorded != inputs_hash(inputs_of(answer, manifest, settings)).encode():
        raise LabsimError(f"{path}: written by another {kind} run (its inputs hash does not match this folder's "
                          f"answer and manifest.json); run `labsim {kind}` again to write this folder")
    return df


def _csv(path: Path, required: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise LabsimError(f"{path}: cannot read CSV ({err})") from None
    return _check_columns(path, df, required)
