"""A run folder: everything one simulated pilot produced, written atomically.

`write_run` puts the weekly series, the individual outcomes, the summary, a manifest (what was run, with
which software) and any charts into a temporary sibling folder and renames it into place only when all
of it is written, so a reader (or a sweep that resumes) never sees half a run. Kept apart from the
command line so that sweeps can write the same folders.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labsim import __version__
from labsim.config.errors import LabsimError

if TYPE_CHECKING:
    from labsim.results.summary import RunResult
    from labsim.config.scenario import Scenario

#: Libraries whose versions decide the numbers and charts, recorded in every manifest.
RECORDED_PACKAGES = ("mesa", "numpy", "scipy", "pandas", "matplotlib", "pyarrow", "pydantic")


def check_out_dir(out_dir: Path, force: bool) -> None:
    """Refuse an existing output folder unless `force` (checked before a long run, and again at the end)."""
    if out_dir.exists() and not force:
        raise LabsimError(f"{out_dir}: output folder already exists (use --force to replace it)")
    if out_dir.exists() and not out_dir.is_dir():
        raise LabsimError(f"{out_dir}: exists and is not a folder")


@contextmanager
def staged_dir(out_dir: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling folder `DIR.tmp-<pid>`; on success it becomes `out_dir`.

    On any error or Ctrl-C the temporary folder is removed and `out_dir` is left as it was.
    """
    out_dir = Path(out_dir)
    check_out_dir(out_dir, force)
    tmp = out_dir.with_name(f"{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        check_out_dir(out_dir, force)
        if out_dir.exists():  # replace: move the old run aside first, so the swap is two renames
            old = out_dir.with_name(f"{out_dir.name}.old-{os.getpid()}")
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str | None]:
    """Installed versions of these packages (None if one is missing)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def manifest(
    scenario: Scenario, source: str, seed: int, weeks: int, overrides: list[str]
) -> dict[str, Any]:
    """What was run and with which software, so that a run folder can be reproduced and audited."""
    from labsim.config.scenario import scenario_to_dict

    return {
        "labsim_version": __version__,
        "source": source,
        "seed": seed,
        "weeks": weeks,
        "overrides": list(overrides),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "scenario": scenario_to_dict(scenario),
    }


def _json_default(value: Any) -> Any:
    """numpy scalars (which `json` cannot write) as plain Python numbers."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_json(path: Path, data: Any) -> None:
    """Pretty JSON, UTF-8, numpy scalars allowed."""
    path.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")


def write_run(
    result: RunResult,
    scenario: Scenario,
    *,
    source: str,
    seed: int,
    weeks: int,
    overrides: list[str],
    out_dir: Path,
    force: bool = False,
    also: Callable[[Path], object] | None = None,
) -> Path:
    """Write one run's folder atomically and return its path.

    Files: weekly.parquet/.csv, individuals.parquet/.csv (CSV so Excel users can open them),
    summary.json, manifest.json, and whatever `also(folder)` writes into the staged folder (the
    command line passes the charts), all renamed into place together.
    """
    out_dir = Path(out_dir)
    with staged_dir(out_dir, force) as tmp:
        result.weekly.to_parquet(tmp / "weekly.parquet", index=False)
        result.weekly.to_csv(tmp / "weekly.csv", index=False)
        result.individuals.to_parquet(tmp / "individuals.parquet", index=False)
        result.individuals.to_csv(tmp / "individuals.csv", index=False)
        result.employment_by_week.to_csv(tmp / "employment_by_week.csv", index=False)
        write_json(tmp / "summary.json", result.summary)
        write_json(tmp / "manifest.json", manifest(scenario, source, seed, weeks, overrides))
        if also is not None:
            also(tmp)
    return out_dir
