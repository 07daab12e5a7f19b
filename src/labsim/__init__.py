"""labsim: size and design job-placement pilots with private providers before they launch.

The public API loads lazily, so that `labsim --help` and light commands start fast.
"""

from __future__ import annotations

import os
import signal
import sys

#: Ctrl-C and SIGTERM that came while the `labsim` command was still starting (before `labsim.cli.main`
#: took over): noted here, not raised, so the command stops at once with 130 or 143 and no traceback.
EARLY_SIGNALS: list[int] = []
if os.path.basename(sys.argv[0] if sys.argv else "") == "labsim" or sys.orig_argv[1:3] == ["-m", "labsim"]:
    for _sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(_sig, lambda signum, frame: EARLY_SIGNALS.append(signum))

from importlib import import_module, metadata  # noqa: E402  (after the signals: it takes a while)
from typing import Any  # noqa: E402

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
