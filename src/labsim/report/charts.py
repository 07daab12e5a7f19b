"""Every chart an output folder calls for, drawn from its saved files.

`write_charts_for(folder)` is what each command calls at the end (`labsim run`, `size`, `diagnose`,
`sweep`) and what `labsim plot DIR` calls to redraw without simulating: it reads the folder as its kind
(report/saved.py), which says which charts apply, and writes each as PNG and SVG into `folder/charts/`.
"""

from __future__ import annotations

from pathlib import Path

from labsim.report.saved import load
from labsim.report.style import save


def write_charts_for(folder: Path, lang: str = "en", out: Path | None = None) -> list[Path]:
    """Draw every chart the folder calls for into `out` (default `folder/charts/`), PNG and SVG;
    return the files written."""
    folder = Path(folder)
    out = Path(out) if out is not None else folder / "charts"
    paths: list[Path] = []
    for name, fig in load(folder).figures(lang).items():
        paths += save(fig, out, name)
    return paths
