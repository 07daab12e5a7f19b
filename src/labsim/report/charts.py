"""Every chart an output folder calls for, drawn from its saved files.

`write_charts_for(folder)` is what each command calls at the end (`labsim run`, `size`, `diagnose`,
`sweep`) and what `labsim plot DIR` calls to redraw without simulating: it reads the folder as its kind
(report/saved.py), which says which charts apply, and writes each as PNG into `folder/charts/`, and as SVG
too when asked (`labsim plot DIR --svg`).
"""

from __future__ import annotations

from pathlib import Path

from labsim.report.saved import load
from labsim.report.style import save


def write_charts_for(folder: Path, lang: str = "en", out: Path | None = None, svg: bool = False) -> list[Path]:
    """Draw every chart the folder calls for into `out` (default `folder/charts/`), PNG, and SVG with
    `svg`; return the files written."""
    folder = Path(folder)
    out = Path(out) if out is not None else folder / "charts"
    paths: list[Path] = []
    for name, fig in load(folder).figures(lang).items():
        paths += save(fig, out, name, svg)
    return paths
