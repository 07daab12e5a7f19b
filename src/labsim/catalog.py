"""The bundled catalogue: the scenarios, experiments and calibration targets installed with labsim, and
a name resolved to a file (a path as given, or the name of a bundled one). The command line and the page
both read it here."""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path

from labsim.config.errors import LabsimError


def scenarios_dir() -> Path:
    """The bundled scenarios: `$LABSIM_SCENARIOS`, else the `scenarios` package data installed with
    labsim (in a checkout, `src/labsim/scenarios` is a link to `scenarios/` at the root)."""
    return _package_folder("scenarios", "LABSIM_SCENARIOS")


def experiments_dir() -> Path:
    """The bundled experiments: `$LABSIM_EXPERIMENTS`, else the `experiments` package data (in a
    checkout, a link to `experiments/` at the root)."""
    return _package_folder("experiments", "LABSIM_EXPERIMENTS")


def _package_folder(name: str, env_var: str) -> Path:
    env = os.environ.get(env_var)
    if env:
        return Path(env)
    folder = resources.files("labsim") / name
    if not isinstance(folder, Path):  # labsim is installed as files, never inside a zip
        raise LabsimError(f"bundled {name} are not in a folder ({folder}); set {env_var}")
    return folder


def targets_dir() -> Path:
    """The bundled calibration targets: `$LABSIM_TARGETS`, else the `targets` package data (in a
    checkout, a link to `targets/` at the root)."""
    return _package_folder("targets", "LABSIM_TARGETS")


def resolve_targets(name: str) -> Path:
    """A targets file given as a path, or as the name of a bundled one."""
    return _resolve(name, targets_dir(), "targets file or bundled targets")


def is_targets(name: str) -> bool:
    """A targets file is named as a bundled one, or is a TOML file with a `targets` table array."""
    return _names_kind(name, targets_dir(), "targets")


def bundled(folder: Path | None = None) -> dict[str, Path]:
    """Bundled scenario (or, given their folder, experiment) files by name (file stem), sorted."""
    folder = scenarios_dir() if folder is None else folder
    # resolved, so that in a checkout the path shown is the file to edit (scenarios/ at the root)
    return {p.stem: p.resolve() for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}


def resolve_scenario(name: str) -> Path:
    """A scenario given as a path, or as the name of a bundled scenario."""
    return _resolve(name, scenarios_dir(), "scenario file or bundled scenario")


def resolve_experiment(name: str) -> Path:
    """An experiment given as a path, or as the name of a bundled experiment."""
    return _resolve(name, experiments_dir(), "experiment file or bundled experiment")


def _resolve(name: str, folder: Path, what: str) -> Path:
    """A file given as a path, or by the name of a bundled one in `folder`."""
    path = Path(name)
    if path.is_file() or path.suffix == ".toml" or len(path.parts) > 1:
        return path  # a missing path is reported by the loader, naming the file
    found = bundled(folder)
    if name in found:
        return found[name]
    names = ", ".join(found) or f"none in {folder}"
    raise LabsimError(f"{name}: no such {what} (bundled: {names})")


def is_experiment(name: str) -> bool:
    """An experiment is named as a bundled one, or is a TOML file naming its base `scenario`."""
    return _names_kind(name, experiments_dir(), "scenario")


def _names_kind(name: str, folder: Path, key: str) -> bool:
    """Whether `name` is a bundled file of `folder` (and not a scenario's name), or a TOML file with `key`.
    A file that cannot be read as TOML is not of the kind: the scenario loader reports it, naming the file."""
    path = Path(name)
    if not path.is_file():
        return name in bundled(folder) and name not in bundled()
    try:
        with path.open("rb") as fh:
            return key in tomllib.load(fh)
    except (OSError, ValueError, RecursionError):  # not TOML, not UTF-8, a 5,000-digit number, too deep
        return False
