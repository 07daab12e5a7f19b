"""Charts and the HTML report, drawn from saved output folders (issue 10).

Each chart is inspected as a matplotlib object: title, axis labels, legend, and the plotted numbers
against the same numbers recomputed here from the saved files. The report is checked as text and, where
Chromium is installed, in a real headless browser: no console errors, no request leaving the page, and
a scenario description holding `<script>` shown as text without running.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from labsim.cli import main
from labsim.config.errors import LabsimError
from labsim.design.size_answer import AssurancePoint, Evidence, MinimumSize, SizeAnswer, SizeAtValue
from labsim.report.charts import write_charts_for
from labsim.report.i18n import LANGS, catalogue, text
from labsim.report.report import render, write_report
from labsim.report.saved import kind_of, load
from labsim.results.output import write_json

from report_fixtures import (
    calibration_fixture, make_diagnose, make_run, make_size, make_sweep, plan_fixture, validation_fixture,
)

CHROMIUM = Path("/usr/bin/chromium")
EVIL = '<script>window.__pwned = 1</script><img src="https://example.org/x.png"> & "quoted"'


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("report")
    run = make_run(root / "runs" / "mandatory", "referral.mode=mandatory")
    make_run(root / "runs" / "voluntary")
    return {
        "run": run,
        "runs": root / "runs",
        "evil": make_run(root / "evil", "referral.mode=mandatory", description=EVIL),
        "size": make_size(root / "size", run),
        "diagnose": make_diagnose(root / "diagnose", run),
        "payment": make_sweep(root / "sweep_payment", run, "payment"),
        "saturation": make_sweep(root / "sweep_saturation", run, "saturation"),
        "referral": make_sweep(root / "sweep_referral", run, "referral"),
    }


EXPECTED = {
    "run": {"volume", "stocks", "employment_by_arm", "survival_by_arm", "provider_profit",
            "effort_by_employability", "cost_per_extra_job"},
    "runs": {"volume", "volume_by_referral", "effort_by_employability", "provider_profit", "cost_per_extra_job"},
    "size": {"power_curve", "minimum_detectable_effect", "estimates"},
    "diagnose": {"estimates"},
    "payment": {"effort_by_employability", "provider_profit", "cost_per_extra_job"},
    "saturation": {"displacement", "effort_by_employability", "provider_profit", "cost_per_extra_job"},
    "referral": {"volume_by_referral", "effort_by_employability", "provider_profit", "cost_per_extra_job"},
}


def _lines(ax, label_part: str):
    return [line for line in ax.get_lines() if label_part in line.get_label()]


def test_folder_kind_is_told_by_its_files(folders, tmp_path):
    kinds = {name: kind_of(path).kind for name, path in folders.items()}
    assert kinds == {"run": "run", "runs": "runs", "evil": "run", "size": "size", "diagnose": "diagnose",
                     "payment": "sweep", "saturation": "sweep", "referral": "sweep"}
    (tmp_path / "empty").mkdir()
    with pytest.raises(LabsimError, match="empty: not a labsim output folder"):
        kind_of(tmp_path / "empty")


@pytest.mark.parametrize("name, made, kind, charts", [
    ("calibration.json", calibration_fixture, "calibrate", {"calibration"}),
    ("validation.json", validation_fixture, "validation", set()),
    ("plan.json", plan_fixture, "plan", {"plan_pareto"}),
])
def test_a_calibration_validation_or_plan_folder_is_read_as_its_typed_answer_and_reported(tmp_path, name, made, kind,
                                                                                             charts):
    """`labsim report` and `labsim plot` read these folders as their own class, holding the typed answer, and
    say their question, verdict and charts in each language; a file of an older format is refused in one line."""
    answer, folder = made(), tmp_path / kind
    folder.mkdir()
    write_json(folder / name, answer.to_json())
    saved = load(folder)
    assert saved.kind == kind and answer in vars(saved).values()
    for lang in ("en", "fi", "sv"):
        said = saved.answer(lang)
        assert said.verdict and "{" not in " ".join(said.verdict) + saved.question(lang)
        assert said.verdict[0] in render(folder, lang)
    assert set(saved.figures("en")) == charts
    write_json(folder / name, {k: v for k, v in answer.to_json().items() if k != "schema"})
    with pytest.raises(LabsimError, match=rf"{kind}/{name}: written in another format \(no schema"):
        load(folder)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_chart_has_title_labelled_axes_legend_data_and_footnote(folders, name):
    figs = load(folders[name]).figures()
    assert set(figs) == EXPECTED[name]
    for chart, fig in figs.items():
        assert fig.get_suptitle(), chart
        notes = [t.get_text() for t in fig.texts]
        assert any("Source: labsim" in n and "Scenario: baseline" in n for n in notes), (chart, notes)
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
        assert legends and all(leg.get_texts() for leg in legends), chart
        panels = [ax for ax in fig.axes if ax.get_visible()]
        assert panels[0].get_ylabel(), chart  # panels side by side share the first one's y label
        for ax in panels:
            assert ax.get_xlabel() or len(panels) > 1, (chart, ax.get_xlabel())
            drawn = len(ax.get_lines()) + len(ax.collections) + len(ax.patches)
            assert drawn > 0, f"{chart}: empty panel"


def test_power_chart_shows_the_saved_curve_band_target_minimum_and_analytic(folders):
    fig = load(folders["size"]).figures()["power_curve"]
    ax = fig.axes[0]
    curve = pd.read_csv(folders["size"] / "power_curve.csv").sort_values("size")
    size = json.loads((folders["size"] / "size.json").read_text())
    (sim,) = [c for c in ax.containers if c.get_label().startswith("Simulated power")]  # dots with bars
    np.testing.assert_allclose(np.asarray(sim.lines[0].get_ydata(), float), curve["power"] * 100)
    bars = sim.lines[2][0].get_segments()  # power +- 1.96 SE, within 0-100
    np.testing.assert_allclose([b[1, 1] for b in bars], np.minimum(100, (curve["power"] + 1.959964 * curve["power_se"]) * 100))
    import statsmodels.api as sm

    reps = pd.read_parquet(folders["size"] / "replications.parquet")
    fit = sm.Probit(reps["reject"].astype(float), sm.add_constant(np.sqrt(reps["size"].astype(float)))).fit(disp=0)
    (probit,) = _lines(ax, "Fitted power")  # without z_critical (a folder from before issue 18): the probit
    np.testing.assert_allclose(probit.get_ydata(), norm.cdf(fit.params.iloc[0] + fit.params.iloc[1] * np.sqrt(probit.get_xdata())) * 100,
                               rtol=1e-4)
    (analytic,) = _lines(ax, "Analytic formula")
    an = SizeAnswer.from_json(size).analytic  # the formula printed beside N*: the pilots nearest it (issue 25)
    d = an.effect / (an.spread * np.sqrt(an.reached / np.asarray(analytic.get_xdata(), float)))
    np.testing.assert_allclose(analytic.get_ydata(), (norm.cdf(d - norm.ppf(0.975)) + norm.cdf(-d - norm.ppf(0.975))) * 100)
    assert analytic.get_label() == f"Analytic formula (minimum {math.ceil(an.size):,})"
    (target,) = _lines(ax, "Target power")
    assert target.get_ydata()[0] == pytest.approx(size["question"]["target_power"] * 100)
    (minimum,) = _lines(ax, "Minimum size")
    assert minimum.get_xdata()[0] == size["minimum_size"]
    assert "(930\N{EN DASH}1,160)" in minimum.get_label()
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Rectangle

    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]  # one band: the minimum's interval
    (band,) = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert band.get_x() == 930 and band.get_x() + band.get_width() == 1160


def test_power_chart_of_a_folder_without_the_pilots_formula_draws_the_reference_batchs(folders, tmp_path):
    """A size.json from before issue 25 (no `analytic`): the dashed line is the formula at the reference batch."""
    folder = tmp_path / "size"
    shutil.copytree(folders["size"], folder)
    size = json.loads((folder / "size.json").read_text())
    size["analytic"] = None
    (folder / "size.json").write_text(json.dumps(size))
    (analytic,) = _lines(load(folder).figures()["power_curve"].axes[0], "Analytic formula")
    ref = SizeAnswer.from_json(size).reference
    np.testing.assert_allclose(analytic.get_ydata(), [ref.analytic_power(x, 0.05) * 100 for x in analytic.get_xdata()])


def test_power_chart_of_z_pilots_draws_the_z_fit(folders, tmp_path):
    """Pilots that record `z_critical` (individual randomisation): the fitted curve is the z fit's two-sided
    normal power of the least-squares line of z on sqrt(N), the curve the minimum size is read from."""
    folder = tmp_path / "size"
    shutil.copytree(folders["size"], folder)
    reps = pd.read_parquet(folder / "replications.parquet").assign(z_critical=norm.ppf(0.975))
    reps.to_parquet(folder / "replications.parquet", index=False)
    (line,) = _lines(load(folder).figures()["power_curve"].axes[0], "Fitted power")
    x, z = np.sqrt(reps["size"].astype(float)), reps["estimate"] / reps["se"]
    b, a = np.polyfit(x, z, 1)
    s = np.sqrt(((z - a - b * x) ** 2).sum() / (len(z) - 2))
    mu = a + b * np.sqrt(line.get_xdata())
    np.testing.assert_allclose(line.get_ydata(), (norm.cdf((mu - 1.959964) / s) + norm.cdf((-mu - 1.959964) / s)) * 100,
                               rtol=1e-5)


def test_mde_chart_is_z_sum_times_the_simulated_se(folders):
    ax = load(folders["size"]).figures()["minimum_detectable_effect"].axes[0]
    curve = pd.read_csv(folders["size"] / "power_curve.csv").sort_values("size")
    (mde,) = _lines(ax, "MDE")
    np.testing.assert_allclose(mde.get_ydata(), (norm.ppf(0.975) + norm.ppf(0.8)) * curve["mean_se"] * 100)
    (effect,) = _lines(ax, "The pilot's estimate (ITT)")  # the effect the headline sizes for, named as it is
    itt = json.loads((folders["size"] / "size.json").read_text())["reference"]["itt"]
    assert effect.get_ydata()[0] == pytest.approx(itt * 100)


def test_volume_chart_compares_voluntary_and_mandatory_week_by_week(folders):
    fig = load(folders["runs"]).figures()["volume"]
    titles = [ax.get_title() for ax in fig.axes]
    assert any("Mandatory referral" in t for t in titles) and any("Voluntary referral" in t for t in titles)
    for ax, run in zip(fig.axes, ("mandatory", "voluntary")):
        summary = json.loads((folders["runs"] / run / "summary.json").read_text())
        (started,) = _lines(ax, "Started with a service provider")
        assert started.get_ydata()[-1] == summary["participants"]["reached"]
        (target,) = _lines(ax, "Target")
        assert target.get_ydata()[0] == summary["participants"]["target"]


def _kaplan_meier(time: np.ndarray, event: np.ndarray) -> dict[float, float]:
    """Product-limit estimate by hand: S(t) = prod over event times u <= t of (1 - d_u / n_u)."""
    s, out = 1.0, {}
    for u in np.unique(time[event]):
        s *= 1 - (event & (time == u)).sum() / (time >= u).sum()
        out[float(u)] = s
    return out


def test_survival_chart_is_the_censoring_aware_kaplan_meier(folders):
    ax = load(folders["run"]).figures()["survival_by_arm"].axes[0]
    ind = pd.read_parquet(folders["run"] / "individuals.parquet")
    weeks = json.loads((folders["run"] / "summary.json").read_text())["weeks"]
    for arm, label in (("pilot", "Pilot arm"), ("control", "Control arm")):
        mine = ind[ind["arm"] == arm]
        seen = mine["first_job_seen"].to_numpy(bool)
        follow = np.where(seen, mine["weeks_to_first_job"].fillna(0), weeks - mine["assigned_week"])
        event = seen & (follow <= 52)
        expected = _kaplan_meier(np.minimum(follow, 52).astype(float), event)
        (line,) = _lines(ax, label)
        drawn = dict(zip(line.get_xdata()[1:], line.get_ydata()[1:] / 100))
        assert line.get_ydata()[0] == 100
        for t, s in expected.items():
            assert drawn[t] == pytest.approx(s)
        assert len(expected) > 10


def test_profit_chart_crosses_zero_at_the_saved_break_even(folders):
    ax = load(folders["run"]).figures()["provider_profit"].axes[0]
    providers = json.loads((folders["run"] / "summary.json").read_text())["providers"]
    for p in providers:
        (line,) = _lines(ax, f"Provider {p['provider'] + 1}:")
        assert f"break-even at {round(p['break_even_clients']):,} clients" in line.get_label()
        assert np.interp(p["break_even_clients"], line.get_xdata(), line.get_ydata()) == pytest.approx(0, abs=60)
        assert np.interp(p["clients"], line.get_xdata(), line.get_ydata()) == pytest.approx(p["profit_eur"], rel=1e-3)


def test_effort_and_cost_charts_by_payment_model_recompute_from_the_sweep(folders):
    figs = load(folders["payment"]).figures()
    rows = pd.read_parquet(folders["payment"] / "results.parquet")
    ax = figs["effort_by_employability"].axes[0]
    cost_ax = figs["cost_per_extra_job"].axes[0]
    heights = [bar.get_width() for bar in cost_ax.patches]  # horizontal bars: the cost is the width
    for i, (preset, r) in enumerate(rows.groupby("payment.preset", sort=False)):
        (line,) = _lines(ax, text(f"preset_{preset}"))
        means = r[[f"effort_by_employability_quintile.{q}" for q in range(5)]].mean()
        np.testing.assert_allclose(line.get_ydata(), means)
        extra = (r["employment_rate.26w.difference"] * r["assigned.pilot"]).mean()
        assert heights[i] == pytest.approx(r["purchaser_paid_eur.total"].mean() / extra)
    outcome, fixed = (np.ptp(_lines(ax, text(f"preset_{p}"))[0].get_ydata()) for p in ("outcome_only", "fixed_fee"))
    assert outcome > fixed  # the fixture's cream-skimming shows as the steeper line


def test_cost_chart_without_extra_jobs_says_so_and_shows_no_euro_scale(folders):
    from labsim.report import comparisons

    rows = pd.read_parquet(folders["payment"] / "results.parquet")
    rows["employment_rate.26w.difference"] = -0.01  # no variant helped
    fig = comparisons.cost_chart(rows, ["payment.preset"], "note")
    ax = fig.axes[0]
    assert list(ax.get_xticks()) == []
    assert all("no extra jobs" in t.get_text() for t in fig.legends[0].get_texts())


def test_displacement_chart_plots_the_untreated_against_the_treated_share(folders):
    ax = load(folders["saturation"]).figures()["displacement"].axes[0]
    rows = pd.read_parquet(folders["saturation"] / "results.parquet")
    on = rows[rows["market.congestion"]]
    (line,) = _lines(ax, "Control arm (untreated), competition for jobs: yes")
    np.testing.assert_allclose(line.get_xdata(), [25, 50, 75])
    np.testing.assert_allclose(line.get_ydata(), on.groupby("design.treatment_share")["employment_rate.26w.control"].mean() * 100)
    assert ax.get_xlabel() == "Share of the eligible in the pilot arm (%)"


def test_charts_in_finnish_and_swedish_use_the_ministrys_terms(folders):
    fi = load(folders["run"]).figures("fi")
    sv = load(folders["run"]).figures("sv")
    assert "palveluntuottaja" in fi["provider_profit"].get_suptitle().lower()
    assert "serviceproducent" in sv["provider_profit"].get_suptitle().lower()
    assert fi["survival_by_arm"].axes[0].get_xlabel() == "Viikkoa ryhmään osoittamisesta"
    assert all(catalogue(lang).get(key) for key in catalogue("en") for lang in LANGS)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    mde = load(folders["size"]).figures("fi")["minimum_detectable_effect"]
    FigureCanvasAgg(mde).draw()
    ticks = [t.get_text() for t in mde.axes[0].get_yticklabels() if t.get_text()]
    assert any("," in t for t in ticks) and not any("." in t for t in ticks), ticks  # 2,5 not 2.5
    sizes = [t.get_text() for t in mde.axes[0].get_xticklabels() if t.get_text()]
    assert "1\u00a0000" in sizes, sizes  # 1 000 with a no-break space, as Finnish writes it (CLDR)


def test_labsim_plot_redraws_png_and_with_svg_asked_svg_without_simulating(folders, tmp_path, monkeypatch, capsys):
    import labsim.world.model

    def no_simulation(*_args, **_kwargs):
        raise AssertionError("labsim plot must not simulate")

    monkeypatch.setattr(labsim.world.model.PilotModel, "__init__", no_simulation)
    for name in ("size", "payment"):
        folder = tmp_path / name
        shutil.copytree(folders[name], folder)
        assert main(["plot", str(folder), "--svg"]) == 0
        written = {p.name for p in (folder / "charts").iterdir()}
        assert written == {f"{c}.{ext}" for c in EXPECTED[name] for ext in ("png", "svg")}
        for chart in EXPECTED[name]:
            assert (folder / "charts" / f"{chart}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert "<svg" in (folder / "charts" / f"{chart}.svg").read_text()[:500]
        svg_drawn = {c: (folder / "charts" / f"{c}.png").read_bytes() for c in EXPECTED[name]}
        capsys.readouterr()
        assert main(["plot", str(folder)]) == 0  # PNG only: the SVGs drawn before would no longer match
        assert set(capsys.readouterr().out.split()) == {str(folder / "charts" / f"{c}.png") for c in EXPECTED[name]}
        assert {p.name for p in (folder / "charts").iterdir()} == {f"{c}.png" for c in EXPECTED[name]}
        assert {c: (folder / "charts" / f"{c}.png").read_bytes() for c in EXPECTED[name]} == svg_drawn
    assert main(["plot", str(tmp_path / "nothing")]) == 2
    assert "nothing: no such folder" in capsys.readouterr().err
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "no" / "r.html")]) == 2  # not an output folder
    assert "not a labsim output folder" in capsys.readouterr().err
    assert main(["report", str(folders["diagnose"]), "--out", str(tmp_path / "no" / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_write_charts_for_is_what_commands_call(folders, tmp_path):
    paths = write_charts_for(folders["diagnose"], out=tmp_path / "c")
    assert [p.name for p in paths] == ["estimates.png"]
    paths = write_charts_for(folders["diagnose"], out=tmp_path / "c", svg=True)
    assert [p.name for p in paths] == ["estimates.png", "estimates.svg"]


@pytest.mark.parametrize("analytic", [True, False], ids=["analytic_near_n_star", "reference_formula"])
def test_plot_and_report_of_a_size_folder_import_no_search_code(folders, tmp_path, analytic):
    """A size folder's charts and report read size.json and the pilots, never the search: no scipy,
    statsmodels, mesa or pydantic (seconds of imports). Its pilots as `labsim size` writes them for the
    individual design (a z statistic each, so the power fit is the z fit); with the formula's size near
    N* and, as an unreachable answer has, without it (the reference batch's formula then)."""
    import subprocess
    import sys

    import labsim

    folder = shutil.copytree(folders["size"], tmp_path / "size")
    pilots = pd.read_parquet(folder / "replications.parquet")
    pilots.assign(z_critical=norm.ppf(0.975)).to_parquet(folder / "replications.parquet", index=False)
    if not analytic:
        answer = SizeAnswer.from_json(json.loads((folder / "size.json").read_text()))
        write_json(folder / "size.json", replace(answer, analytic=None).to_json())
    code = (
        "import sys; from labsim.cli import main; "
        f"assert main(['plot', {str(folder)!r}]) == 0; "
        f"assert main(['report', {str(folder)!r}, '--out', {str(tmp_path / 'r.html')!r}]) == 0; "
        "print(sorted({'scipy', 'statsmodels', 'mesa', 'pydantic', 'labsim.design.size'} & set(sys.modules)))"
    )
    src = str(Path(labsim.__file__).parents[1])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": src, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    assert {f"{c}.png" for c in EXPECTED["size"]} <= {p.name for p in (folder / "charts").iterdir()}


def test_report_holds_question_assumptions_answer_charts_and_caveats(folders, tmp_path):
    html = render(folders["size"], "en")
    for heading in ("The scenario&#39;s assumptions", "The answer", "Charts", "What the model leaves out"):
        assert heading in html, heading
    assert "How many job seekers must the pilot" in html
    assert "1,040 participants (95 % interval 930\N{EN DASH}1,160)" in html
    assert "1,000 (95 % interval 800\N{EN DASH}1,300), from the effect and spread of the 200 pilots" in html
    assert html.count("data:image/png;base64,") == len(EXPECTED["size"])
    assert "http://" not in html and "https://" not in html
    fi = render(folders["size"], "fi")
    assert "1\u00a0040 osallistujaa" in fi and "TE-toimisto" in fi and "Palveluntuottajat" in fi
    sv = render(folders["run"], "sv")
    assert "TE-byrå" in sv and "arbetssökande" in sv and "Serviceproducenter" in sv
    out = tmp_path / "r.html"
    assert main(["report", str(folders["payment"]), "--lang", "sv", "--out", str(out)]) == 0
    assert "enbart resultatbaserad ersättning" in out.read_text() and "outcome_only" not in out.read_text()


def test_captions_mention_the_roll_out_effect_only_where_it_was_simulated(folders):
    """A size search does not simulate the roll-out: its captions must not send the reader to a missing line."""
    size, diagnose = render(folders["size"], "en"), render(folders["diagnose"], "en")
    assert "roll-out effect" not in size.split("What the model leaves out")[0].split("Charts")[-1]
    assert "the effect it is sized for" in size and "grey bars are pilots" in size
    assert "the gap between the mean and the roll-out effect" in diagnose


def test_providers_breaking_even_is_shown_as_a_share(folders):
    assert re.search(r"breaking even \(share\), at 1,040 participants</td><td>90%", render(folders["size"], "en"))
    assert re.search(r"breaking even \(share\)</td><td>75%", render(folders["diagnose"], "en"))


def test_scenario_names_with_dollar_signs_are_drawn_as_text(folders, tmp_path):
    folder = tmp_path / "dollars"
    shutil.copytree(folders["run"], folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["scenario"]["name"] = r"pilot $\nosuchcommand^^$ 2026"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    paths = write_charts_for(folder, svg=True)  # unescaped, matplotlib would parse "$...$" as (broken) maths
    assert len(paths) == 2 * len(EXPECTED["run"])


def test_report_escapes_scenario_texts(folders):
    html = render(folders["evil"], "en")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert '<img src="https://' not in html


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium "
                    "(as root: apt-get install chromium; CI installs it)")
@pytest.mark.parametrize("name,lang", [("evil", "en"), ("size", "fi"), ("saturation", "sv"), ("runs", "en")])
def test_report_opens_in_chromium_without_errors_or_requests(folders, tmp_path, name, lang):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")
    report = write_report(folders[name], lang, tmp_path / f"{name}-{lang}.html")
    url = report.resolve().as_uri()
    problems, requests = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="load")
            state = page.evaluate("""() => ({
                scripts: document.querySelectorAll('script').length,
                pwned: window.__pwned === undefined ? null : window.__pwned,
                images: [...document.images].map(i => i.complete && i.naturalWidth > 0),
                text: document.body.innerText,
            })""")
        finally:
            browser.close()
    assert problems == []
    assert [r for r in requests if r != url and not r.startswith("data:")] == []
    assert state["scripts"] == 0 and state["pwned"] is None
    assert state["images"] and all(state["images"]), "every chart image decodes"
    if name == "evil":
        assert "<script>window.__pwned = 1</script>" in state["text"]
    assert text("r_caveats", lang) in state["text"]


@pytest.mark.parametrize("lang", ["en", "fi", "sv"])
def test_chart_texts_stay_inside_the_figure_and_clear_of_the_axes(folders, lang):
    """Long Finnish and Swedish titles wrap instead of running off the page; the reading note and the
    footnote sit below every axes (tick labels and axis labels included), not on top of them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    for name in ("run", "runs", "size", "payment", "saturation", "referral"):
        for chart, fig in load(folders[name]).figures(lang).items():
            renderer = FigureCanvasAgg(fig).get_renderer()
            fig.draw(renderer)
            page = fig.bbox
            title = [t for t in fig.findobj(Text) if t.get_text() == fig.get_suptitle()]
            drawn = [ax.get_tightbbox(renderer) for ax in fig.axes]  # ticks, labels, titles, legends
            drawn += [t.get_window_extent(renderer) for t in [*title, *fig.texts]]
            for box in drawn:
                assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, (lang, chart, box)
                assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, (lang, chart, box)
            axes_boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
            for t in fig.texts:  # figure-level texts: the reading note and the footnote
                box = t.get_window_extent(renderer)
                assert not any(box.overlaps(a) for a in axes_boxes), (lang, chart, t.get_text())


def test_size_search_that_found_no_minimum_still_draws_and_says_so(folders, tmp_path):
    folder = tmp_path / "no_minimum"
    shutil.copytree(folders["size"], folder)
    size = SizeAnswer.from_json(json.loads((folder / "size.json").read_text()))
    write_json(folder / "size.json", replace(size, minimum=None, status="not_reachable").to_json())
    figs = load(folder).figures()
    assert not _lines(figs["power_curve"].axes[0], "Minimum size")
    assert "not reached within the sizes simulated" in render(folder, "en")


def test_size_report_leads_with_the_range_over_the_evidence(folders, tmp_path):
    folder = tmp_path / "evidence"
    shutil.copytree(folders["size"], folder)
    size = SizeAnswer.from_json(json.loads((folder / "size.json").read_text()))
    ends = tuple(SizeAtValue("providers.effort_effect", v, MinimumSize(n - 0.5, n - 50, n + 50), "found", 40)
                 for v, n in ((0.3, 3600), (0.6, 1040), (1.0, 420)))
    evidence = Evidence(ends, (AssurancePoint(1040, 0.6, 0.08),), 0.8, MinimumSize(1899.5, 1500.5, 2399.5), 400)
    write_json(folder / "size.json", replace(size, evidence=evidence).to_json())
    html = render(folder, "en")
    assert "Between 420 and 3,600 participants depending on the assumptions" in html
    assert "with 1,900 the chance of a significant result across that range is 80%" in html
    assert html.index("Between 420 and 3,600") < html.index("Minimum pilot size")
    assert "<td>löytyi</td>" in render(folder, "fi") and "<td>found</td>" not in render(folder, "fi")


def test_power_chart_goes_flat_beyond_the_places_the_catchment_fills(folders, tmp_path):
    """A folder whose largest target filled fewer places (`reached`): a dash-dot line marks the most places
    filled, and both curves are flat beyond it (the power of those places), rising before it."""
    folder = tmp_path / "size"
    shutil.copytree(folders["size"], folder)
    reps = pd.read_parquet(folder / "replications.parquet")
    largest = reps["size"].max()
    cap = float(np.sort(reps["size"].unique())[-2]) + 10  # between the two largest sizes tried
    reps.assign(reached=np.minimum(reps["size"].astype(float), cap)).to_parquet(folder / "replications.parquet",
                                                                                   index=False)
    ax = load(folder).figures()["power_curve"].axes[0]
    (mark,) = _lines(ax, "Most places the area fills")
    assert mark.get_xdata()[0] == pytest.approx(cap) and largest > cap
    for name in ("Fitted power", "Analytic formula"):
        (line,) = _lines(ax, name)
        x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        assert np.ptp(y[x >= cap]) < 1e-9 and np.ptp(y[x < cap]) > 1, name


def test_a_run_is_judged_at_its_primary_horizon_and_the_others_are_secondary_with_holm():
    """13 weeks significant alone (p 0.01), 26 not (p 0.32): judged at the primary 26 weeks the run is not
    significant, and 13 weeks is shown as secondary with its Holm-adjusted p (3 x 0.01 = 0.03)."""
    from labsim.report.answers import holm, run_answer
    from labsim.results.summary import Effect, Participants
    from report_fixtures import summary_fixture

    def at(d, se):
        p = 2 * norm.sf(abs(d / se))
        return Effect(0.3 + d, 100, 0.3, 100, d, se, d - 1.96 * se, d + 1.96 * se, p, None, None, "hc2")

    z13 = norm.isf(0.005)  # two-sided p 0.01
    summary = summary_fixture(participants=Participants(100, 100, 1.0, 20),
                              employment_rate={"13w": at(0.01 * z13, 0.01), "26w": at(0.01, 0.01),
                                               "52w": at(0.01 * norm.isf(0.25), 0.01)})
    said = run_answer(summary, "en", primary=26)
    assert "26 weeks" in said.verdict[1] and "not" in said.verdict[1].lower()
    rows = dict(said.rows)
    assert "(primary" in rows["Employment effect, 26 weeks"]
    assert "secondary; Holm-adjusted p 0.030" in rows["Employment effect, 13 weeks"]
    judged13 = run_answer(summary, "en", primary=13)
    assert "13 weeks" in judged13.verdict[1] and "(primary" in dict(judged13.rows)["Employment effect, 13 weeks"]
    p = holm({13: 0.01, 26: 0.3173, 52: 0.5})
    assert p[13] == pytest.approx(0.03) and p[26] == pytest.approx(0.6346) and p[52] == pytest.approx(0.6346)
