"""No chart text runs into another: every text of every chart kind (titles, axis labels, tick labels,
legend entries, notes, labels on the data) is measured by matplotlib's renderer after drawing, in every
language, over the bundled experiments' shapes, and no two boxes may overlap or leave the figure.
Open-ended intervals are drawn so the estimate stays visible."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.text import Text

from labsim.report.i18n import LANGS
from labsim.report.saved import load

from report_fixtures import add_uncertainty, make_diagnose, make_run, make_size, make_sweep

KINDS = ("run", "runs", "size", "diagnose", "sensitivity", "payment", "saturation", "referral", "referral_and_payment",
         "weak")


def _stub_pilot(task, seed):
    """A simulated pilot whose estimate follows the effort effect (as tests/test_sensitivity.py's stub)."""
    _, job = task.payload
    noise = np.random.default_rng(seed).normal(0, 0.002)
    return {"point": task.payload[0], "replication": task.key[-1], "se": 0.01, "reject": False,
            "estimate": job.scenario.providers.effort_effect / 50 + noise}


def make_sensitivity(out):
    """A `labsim sensitivity` folder over two assumptions, its pilots stubbed (the chart is what is tested)."""
    from labsim.cli import main
    from labsim.design import sensitivity

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sensitivity, "_simulate_point", _stub_pilot)
        assert main(["sensitivity", "baseline", "--method", "oat", "--params", "providers.effort_effect=0.2:1.2",
                     "--params", "payment.attachment_fee_eur=0:2000", "--sims", "3", "--workers", "1",
                     "--out", str(out), "--set", "area.job_seekers=3000"]) == 0
    return out


def weaken(sweep, seed: int = 9):
    """The sweep with effects near zero (0.4 pp, run-to-run SD 1 pp), as a real small pilot shows them:
    costs per extra job in the millions, some intervals open-ended, some variants with no extra job."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = sweep / "results.parquet"
    stamp = pq.read_schema(path).metadata  # the store's inputs hash: the folder stays its own
    table = pd.read_parquet(path)
    rng = np.random.default_rng(seed)
    for h in (13, 26, 52):
        table[f"employment_rate.{h}w.difference"] = 0.004 + rng.normal(0, 0.01, len(table))
    weak = pa.Table.from_pandas(table, preserve_index=False)
    pq.write_table(weak.replace_schema_metadata({**(weak.schema.metadata or {}), **(stamp or {})}), path)
    return sweep


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("chart_text")
    run = make_run(root / "runs" / "mandatory", "referral.mode=mandatory")
    make_run(root / "runs" / "voluntary")
    out = {"run": run, "runs": root / "runs", "size": add_uncertainty(make_size(root / "size", run)),
           "diagnose": make_diagnose(root / "diagnose", run), "sensitivity": make_sensitivity(root / "sensitivity")}
    for kind in ("payment", "saturation", "referral", "referral_and_payment"):
        out[kind] = make_sweep(root / kind, run, kind, reps=3)
    out["weak"] = weaken(make_sweep(root / "weak", run, "referral_and_payment", reps=3))
    return out


def texts_of(fig) -> list[Text]:
    """Every visible, non-empty text the figure draws: tick labels only of the ticks inside the view
    (matplotlib keeps, but does not draw, the others)."""
    axes = [ax for ax in fig.axes if ax.get_visible()]
    ticks = {id(t) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for tick in axis.get_major_ticks()
             + axis.get_minor_ticks() for t in (tick.label1, tick.label2)}
    found = [t for t in fig.findobj(Text) if id(t) not in ticks and (t.axes is None or t.axes.get_visible())]
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            found += [t for tick in axis._update_ticks() for t in (tick.label1, tick.label2)]  # the drawn ticks
    return [t for t in found if t.get_visible() and t.get_text().strip()]


def overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of texts whose drawn boxes overlap (by more than half a pixel), and texts outside the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts_of(fig)]
    page = fig.bbox
    bad = [(s, "outside the figure") for s, b in boxes
           if b.x0 < page.x0 - 1 or b.y0 < page.y0 - 1 or b.x1 > page.x1 + 1 or b.y1 > page.y1 + 1]
    for (s, a), (u, b) in itertools.combinations(boxes, 2):
        if min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5:
            bad.append((s, u))
    return bad


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_no_chart_text_overlaps_another(folders, kind, lang):
    figs = load(folders[kind]).figures(lang)
    assert figs
    problems = {name: overlaps(fig) for name, fig in figs.items()}
    assert not any(problems.values()), {k: v[:4] for k, v in problems.items() if v}


def test_an_open_ended_interval_leaves_the_estimate_visible(folders):
    """A cost bar whose interval has no upper end: the bar is drawn, and the arrow marking the open end
    sits beyond the bar's end, not over it."""
    import pandas as pd

    frame = load(folders["payment"]).results.copy()
    frame.loc[frame["payment.preset"] == "fixed_fee", "employment_rate.26w.difference"] = \
        np.resize([0.0005, 0.03, -0.01], int((frame["payment.preset"] == "fixed_fee").sum()))
    from labsim.report.comparisons import cost_chart

    fig = cost_chart(pd.DataFrame(frame), ["payment.preset"], "note", "en")
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_width() > 0]
    assert bars and all(p.get_width() < ax.get_xlim()[1] * 0.95 for p in bars)
    assert not overlaps(fig)
