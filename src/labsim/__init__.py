"""labsim: size and design job-placement pilots with private providers before they launch.

The public API loads lazily, so that `labsim --help` and light commands start fast.
"""

from __future__ import annotations

from importlib import import_module, metadata
from typing import Any

try:
    __version__ = metadata.version("labsim")  # one source of truth: pyproject.toml
except metadata.PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

_API = {
    "load_scenario": "labsim.config.scenario",
    "parse_scenario": "labsim.config.scenario",
    "Scenario": "labsim.config.scenario",
    "PilotModel": "labsim.world.model",
    "RunResult": "labsim.results.summary",
    "results_of": "labsim.results.summary",
    "ScenarioError": "labsim.config.errors",
}
__all__ = [*_API, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'labsim' has no attribute {name!r}")
