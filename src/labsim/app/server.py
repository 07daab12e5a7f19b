"""Start the page's Solara server: the starting scenario and language go to the page in environment
variables; it binds to 127.0.0.1 unless a host is given."""

from __future__ import annotations

import os
from pathlib import Path

from labsim.config.errors import LabsimError

EXTRA_HINT = "labsim app needs the app extra: pip install 'labsim[app]'"


def check_extra() -> None:
    """One line saying how to get the extra, if Solara or Mesa's visualisation is missing."""
    try:
        import mesa.visualization  # noqa: F401
        import solara  # noqa: F401
        import tomli_w  # noqa: F401
    except ImportError:
        raise LabsimError(EXTRA_HINT) from None


def serve(scenario: Path, lang: str, host: str, port: int) -> int:
    """Run the server until stopped (Ctrl-C)."""
    check_extra()
    from labsim.app.draft import from_file

    from_file(scenario)  # a bad scenario stops here with its one-line error, before the server starts
    os.environ["LABSIM_APP_SCENARIO"] = str(scenario)
    os.environ["LABSIM_APP_LANG"] = lang
    from solara.__main__ import cli

    args = ["run", "labsim.app.page", "--host", host, "--port", str(port), "--production", "--no-open", "--no-check-version",
            "--log-level", "warning", "--log-level-uvicorn", "warning"]
    cli.main(args, standalone_mode=False)
    return 0
