"""The page `labsim app` serves (a Solara app): scenario and levers on the left; the world running week by
week; "How large must it be?"; downloads. Each browser tab is a Solara session with its own model and
its own search process, so one tab's run never holds up another's.

`labsim app` hands over the starting scenario and language in LABSIM_APP_SCENARIO and LABSIM_APP_LANG.
Every text comes from the catalogue in the page's language. The page uses no Markdown component: Solara's
loads KaTeX from a CDN, which a planner's machine may not reach (404s and a require.js error).
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import solara
from mesa.visualization.utils import force_update
from solara.server import settings as server_settings

from labsim.app.charts import ArmsChart, ParticipantsChart, StocksChart
from labsim.app.draft import Draft, check_upload_size, from_file, from_upload
from labsim.app.levers import Shown, shown_for
from labsim.app.live import LiveModel
from labsim.app.quick_plan import PAGE_LEVERS, QUICK_PLAN, PlanJob, choices, own_values, plan_levers, quick_plan_settings
from labsim.app.quick_size import QUICK, SizeJob, discard_answer, quick_settings, quick_total, write_answer
from labsim.config.errors import LabsimError
from labsim.design.pilot_cache import PilotCache
from labsim.design.size_job import rollout_worlds
from labsim.report.i18n import LANGS, number, percent, text
from labsim.report.levers import lever_name, lever_value

if TYPE_CHECKING:
    from labsim.design.plan import Plan

server_settings.theme.show_banner = False  # Solara's "This website runs on Solara" banner (English)
server_settings.theme.title = "labsim"  # the tab's title until the page sets its own

SEED = 1  # the page's world; the same scenario always shows the same run
RUN_BATCH = 4  # weeks stepped between redraws while running


def bundled_scenarios() -> dict[str, Path]:
    from labsim.catalog import bundled

    return bundled()


@cache
def scenario_items(lang: str) -> list[dict[str, str]]:
    """The bundled scenarios for the picker, each by its description in `lang` (its name if it has none)."""
    return [{"title": from_file(path).description(lang) or name, "value": name}
            for name, path in bundled_scenarios().items()]


def _start() -> tuple[Draft, str]:
    path = Path(os.environ.get("LABSIM_APP_SCENARIO") or bundled_scenarios()["baseline"])
    lang = os.environ.get("LABSIM_APP_LANG", "en")
    return from_file(path), lang if lang in LANGS else "en"


COLOURS = {"error": "#b00020", "warning": "#8a5300", "success": "#1b5e20", "info": "#0d47a1"}


def note(message: str, kind: str, classes: list[str] | None = None):
    """A coloured line (Solara's alert widgets fail when redrawn from a background thread here)."""
    return solara.Text(message, classes=classes or [], style={"color": COLOURS[kind], "font-weight": "bold",
                                                              "display": "block", "margin": "6px 0"})


def download_link(data: bytes, filename: str, label: str, mime: str, css: str):
    """A link that saves `data` as `filename` (a data URL: the page holds it, nothing is stored on the server)."""
    href = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return solara.HTML(tag="div", unsafe_innerHTML=(
        f'<a class="{css}" download="{html.escape(filename)}" href="{href}" style="display: inline-block; '
        f'margin: 6px 0; font-weight: 500">&#x2B07; {html.escape(label)}</a>'))


@solara.component
def ReportDownload(make, filename: str, label: str, css: str, key):
    """A button that makes a report on request, then its download link (until what it shows changes)."""
    made, set_made = solara.use_state(None)
    solara.use_effect(lambda: set_made(None), [key])
    if made is None:
        solara.Button(label, on_click=lambda: set_made(make()), text=True, classes=[f"{css}-make"])
    else:
        download_link(made, filename, label, "text/html", css)


def source_text(shown: Shown, lang: str) -> str:
    """Where a lever's value comes from, in `lang`: the scenario's evidence source (its fi/sv text where the
    file gives one) or the lever's own citation."""
    if shown.evidence is not None:
        return getattr(shown.evidence, f"source_{lang}", "") or shown.evidence.source
    return text(shown.lever.source, lang)


def rich(lines: list[str], css: str = "") -> None:
    """Short texts with **bold** and `code`, as HTML (escaped): a list when there are several."""
    import re

    def one(line: str) -> str:
        out = html.escape(line)
        out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", out)

    body = one(lines[0]) if len(lines) == 1 else "<ul>" + "".join(f"<li>{one(x)}</li>" for x in lines) + "</ul>"
    solara.HTML(tag="div", unsafe_innerHTML=body, classes=[css] if css else [])


@solara.component
def LeverControl(shown: Shown, value, on_value, lang: str):
    """One lever: its control (a select of named values, or a slider with its value in the locale's
    numbers above it), unit and source."""
    lever = shown.lever
    unit = text(lever.unit, lang) if lever.unit else ""
    label = f"{text(lever.label, lang)}" + (f" ({unit})" if unit else "")
    with solara.Column(gap="0px", classes=[f"lever-{lever.path.replace('.', '-')}"]):
        if lever.choices:
            items = [{"title": lever_value(lever.path, c, lang), "value": c} for c in lever.choices]
            solara.v.Select(label=label, v_model=value, items=items, on_v_model=on_value, dense=True)
        else:
            solara.Text(text("app_value", lang, label=label, value=lever_value(lever.path, value, lang)),
                        style={"font-size": "0.9em"}, classes=["labsim-lever-value"])
            slider = solara.SliderInt if lever.whole else solara.SliderFloat
            kind = int if lever.whole else float
            slider("", value=kind(value), min=kind(shown.low), max=kind(shown.high), step=kind(lever.step),
                   on_value=on_value, thumb_label=False)
        solara.Text(text("app_source", lang, s=source_text(shown, lang)),
                    style={"font-size": "0.75em", "color": "#555", "margin": "-8px 0 10px 0"})


def run_report(model: LiveModel, draft: Draft, lang: str) -> bytes:
    """The HTML report of the run on screen: its folder written with the run writer, rendered by the
    report layer."""
    from labsim.report.report import render
    from labsim.results.output import write_run
    from labsim.results.summary import results_of

    with tempfile.TemporaryDirectory(prefix="labsim-app-") as tmp:
        out = Path(tmp) / (model.settings.name or "run")
        write_run(results_of(model), model.settings, source=draft.source, seed=SEED, weeks=model.week,
                  overrides=[f"{k}={v!r}" for k, v in draft.changes.items()], out_dir=out)
        return render(out, lang).encode("utf-8")

@dataclass(frozen=True)
class BackgroundJob:
    """A view's job in the background (a size search or a plan) as its hooks hold it: the job (None
    before the first start), why a start was refused, and how to start and cancel it."""

    job: SizeJob | None
    problem: str
    start: Callable[[], None]
    cancel: Callable[[], None]

    @property
    def running(self) -> bool:
        j = self.job
        return j is not None and j.answer is None and j.error is None and not j.cancelled.is_set()


def use_background_job(make: Callable[[], SizeJob]) -> BackgroundJob:
    """The hooks a view's job needs: started by `make` (a refused start is said, not raised), followed by a
    thread that redraws the view at each message, ended with the view (a closed tab or a new start)."""
    job, set_job = solara.use_state(None)
    _, set_tick = solara.use_state(0)
    problem, set_problem = solara.use_state("")

    def follow():
        if job is not None:
            job.follow(lambda j: set_tick(lambda t: t + 1))

    solara.use_thread(follow, dependencies=[job])
    solara.use_effect(lambda: (lambda: job.cancel()) if job is not None else None, [job])

    def start():
        if job is not None:
            job.cancel()
        try:
            set_job(make())
            set_problem("")
        except LabsimError as err:
            set_problem(str(err))

    def cancel():
        job.cancel()
        set_tick(lambda t: t + 1)

    return BackgroundJob(job, problem, start, cancel)


@solara.component
def JobControls(work: BackgroundJob, start: str, css: str, lang: str):
    """A background job's start and cancel buttons, then why it could not start, its progress with the
    time left, its error, or that it was cancelled; `css` prefixes the classes the browser test finds."""
    job, running = work.job, work.running
    with solara.Row():
        solara.Button(text(start, lang), on_click=work.start, color="primary", disabled=running,
                      classes=[f"{css}-start"])
        solara.Button(text("app_size_cancel", lang), on_click=work.cancel, disabled=not running,
                      classes=[f"{css}-cancel"])
    if work.problem:
        note(work.problem, "error", [f"{css}-error"])
    if running:
        p = job.progress()
        left = "?" if p.seconds_left is None else number(p.seconds_left, lang)
        solara.ProgressLinear(value=100 * p.share)
        solara.Text(text("app_size_progress", lang, done=p.done, total=p.total, left=left),
                    classes=[f"{css}-progress"])
    elif job is not None and job.error:
        note(job.error, "error", [f"{css}-error"])
    elif job is not None and job.cancelled.is_set() and job.answer is None:
        note(text("app_size_cancelled", lang), "info")


@solara.component
def SizePanel(draft: Draft, lang: str):
    """"How large must it be?": a quick size search in the background, its progress and its answer."""
    settings = quick_settings()
    kept = solara.use_memo(PilotCache, [])  # the session's pilots: a later answer runs only what is new
    work = use_background_job(lambda: SizeJob(draft.scenario(), settings, kept))
    job = work.job
    finished = job is not None and job.answer is not None
    saved = solara.use_memo(lambda: answer_in_memory(job, draft.source) if finished else None, [job, finished])

    with solara.Card(text("app_size_title", lang), classes=["labsim-size"]):
        rich([text("app_size_note", lang, p=percent(settings.power, lang), a=number(settings.alpha, lang, 2),
                   h=settings.horizon, batch=QUICK["batch"], most=quick_total(draft, settings),
                   worlds=rollout_worlds(settings),
                   tol=percent(settings.precision, lang))])
        JobControls(work, "app_size_start", "labsim-size", lang)
        if saved is not None:
            SizeAnswer(saved, job, draft, lang)


def answer_in_memory(job: SizeJob, source: str):
    """The finished search read back as the report layer reads a `labsim size` folder; the folder is
    removed at once, so no search leaves one behind (its report writes and removes its own)."""
    from labsim.report.saved import load

    folder = write_answer(job, source)
    try:
        return load(folder)
    finally:
        discard_answer(folder)


def size_report(job: SizeJob, source: str, lang: str) -> bytes:
    """The size answer's HTML report, from a folder that lives only while the report is made."""
    from labsim.report.report import render

    folder = write_answer(job, source)
    try:
        return render(folder, lang).encode("utf-8")
    finally:
        discard_answer(folder)


@solara.component
def SizeAnswer(saved, job: SizeJob, draft: Draft, lang: str):
    """The answer: the verdict (green only when the size job's answer says the places bought are enough at
    its stated precision and across the evidence), the report's answer rows and the power curve, and its
    report."""
    from labsim.report.sizing import power_chart

    size = saved.size
    said = saved.answer(lang)  # the report's own verdict and rows
    judged = size.verdict()
    with solara.Column(classes=["labsim-size-answer"]):
        verdict = " ".join(said.verdict)
        if judged.green:
            verdict += " " + text("app_verdict_enough", lang)
        elif judged.needed is not None:
            verdict += " " + text("app_verdict_needed", lang, n=number(judged.needed, lang))
        verdict += "".join(" " + text(f"app_why_{why}", lang) for why in judged.reasons)
        note(verdict, "success" if judged.green else "warning", ["labsim-verdict"])
        rich([f"**{label}**: {value}" for label, value in said.rows], "labsim-size-rows")
        solara.FigureMatplotlib(power_chart(size, saved.curve, "", lang, saved.pilots),
                                format="png")
        ReportDownload(lambda: size_report(job, draft.source, lang), f"size-report-{lang}.html",
                       text("app_download_size_report", lang), "labsim-size-report", (job, lang))


def plan_value(path: str, value: str, lang: str) -> str:
    """A plan lever's value as the plan's report names it."""
    if path == "design.randomisation":
        return text(f"plan_design_{value}", lang)
    if path == "design.estimator":
        return text(f"plan_estimator_{value}", lang)
    return lever_value(path, value, lang)


def plan_chart(answer: Plan, lang: str) -> bytes:
    """The plan's Pareto chart as PNG, drawn by the report layer in a folder that lives only meanwhile."""
    from labsim.report.plan import pareto_chart

    with tempfile.TemporaryDirectory(prefix="labsim-app-plan-") as tmp:
        png = next(p for p in pareto_chart(answer, Path(tmp), lang) if p.suffix == ".png")
        return png.read_bytes()


def plan_table(answer: Plan, lang: str) -> str:
    """The plan's table of candidates as HTML, numbers in the locale's way."""
    from labsim.report.plan import cell, table

    df = table(answer, lang)
    pad = "padding: 3px 6px; border-bottom: 1px solid #ddd; vertical-align: top"
    head = "".join(f'<th style="{pad}; vertical-align: bottom; min-width: {"22em" if i == 0 else "5em"}">'
                   f"{html.escape(c)}</th>" for i, c in enumerate(df.columns))
    body = "".join("<tr>" + "".join(f'<td style="{pad}">{html.escape(cell(x, lang))}</td>' for x in row) + "</tr>"
                   for row in df.itertuples(index=False))
    return (f'<table class="labsim-plan-table" style="font-size: 0.8em; border-collapse: collapse">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


@solara.component
def PlanPanel(draft: Draft, lang: str):
    """The plan view: the levers to compare, a small plan in the background, then the verdict first, the
    Pareto chart of assurance against cost and the table of candidates (the report layer's, in `lang`)."""
    from labsim.report.plan import verdict

    scenario = draft.scenario()
    picked, set_picked = solara.use_state(own_values(scenario))
    work = use_background_job(lambda: PlanJob(scenario, plan_levers(picked), quick_plan_settings(scenario)))
    job = work.job
    answer = job.answer if job is not None else None
    chart = solara.use_memo(lambda: plan_chart(answer, lang) if answer else None, [answer is not None, job, lang])

    with solara.Card(text("app_plan_title", lang), classes=["labsim-plan"]):
        rich([text("app_plan_note", lang, probe=QUICK_PLAN["probe"], frontier=QUICK_PLAN["frontier"],
                   batch=QUICK_PLAN["batch"], tol=percent(QUICK_PLAN["precision"], lang))])
        with solara.Columns([1, 1]):
            for pair in (PAGE_LEVERS[:2], PAGE_LEVERS[2:]):
                with solara.Column(gap="0px"):
                    for path in pair:
                        items = [{"title": plan_value(path, v, lang), "value": v} for v in choices(path)]
                        solara.v.Select(label=lever_name(path, lang), v_model=picked.get(path, []), items=items,
                                        multiple=True, chips=True, dense=True,
                                        class_=f"labsim-plan-{path.replace('.', '-')}",
                                        on_v_model=lambda v, p=path: set_picked({**picked, p: list(v)}))
        JobControls(work, "app_plan_start", "labsim-plan", lang)
        if answer is not None:
            with solara.Column(classes=["labsim-plan-answer"]):
                said = verdict(answer, lang)
                note(said[0], "success" if answer.answer else "warning", ["labsim-plan-verdict"])
                if said[1:]:
                    rich(said[1:], "labsim-plan-risks")
                if chart:
                    solara.Image(chart, classes=["labsim-plan-chart"])
                # the table scrolls within the card, which keeps the page's width
                solara.HTML(tag="div", unsafe_innerHTML=plan_table(answer, lang), classes=["labsim-plan-candidates"],
                            style={"overflow-x": "auto", "max-width": "62vw"})


@dataclass(frozen=True)
class WorldControls:
    """The page's simulated world as its hooks hold it: the model, whether it is playing, and what the
    buttons do (a new world from the draft, a step of some weeks, play or pause)."""

    model: LiveModel
    playing: bool
    reset: Callable[..., None]
    step: Callable[..., None]
    toggle: Callable[[], None]


def use_world(first: Draft, draft: Draft, set_message: Callable[[str], None]) -> WorldControls:
    """The hooks the world needs: the model (begun from the first draft, seed `SEED`), and a thread that
    steps it `RUN_BATCH` weeks at a time while playing; a draft that is no scenario is said, not run."""
    begun = solara.use_memo(lambda: LiveModel(first.scenario(), rng=SEED), [])
    model, set_model = solara.use_state(begun)
    playing, set_playing = solara.use_state(False)
    running = solara.use_memo(threading.Event, [])  # set while the Run button's thread should go on

    def reset(new_draft: Draft | None = None):
        running.clear()
        set_playing(False)
        try:
            scenario = (new_draft or draft).scenario()
        except LabsimError as err:
            set_message(str(err))
            return
        set_model(LiveModel(scenario, rng=SEED))
        set_message("")
        force_update()

    def step(weeks: int = 1):
        for _ in range(weeks):
            if model.finished:
                break
            model.step()
        force_update()

    def toggle():
        if running.is_set():
            running.clear()
        else:
            running.set()
        set_playing(running.is_set())

    def play():
        while running.is_set() and not model.finished:
            step(RUN_BATCH)
            time.sleep(0.05)  # let the page draw
        if running.is_set():
            running.clear()
            set_playing(False)

    solara.use_thread(play, dependencies=[playing, model])
    return WorldControls(model, playing, reset, step, toggle)


@dataclass(frozen=True)
class Edits:
    """How the planner changes the scenario: a lever moved, a bundled scenario picked, a file uploaded."""

    change: Callable[[str, object], None]
    pick: Callable[[str], None]
    upload: Callable[[dict], None]


def scenario_edits(draft: Draft, set_draft: Callable[[Draft], None], world: WorldControls, lang: str,
                   set_message: Callable[[str], None], set_notice: Callable[[str], None]) -> Edits:
    """The edits of the draft: a change that gives no scenario is said and not kept; a new scenario (picked
    or uploaded, its size checked before it is read) begins a new world."""

    def change(path: str, value):
        new = draft.with_change(path, value)
        try:
            new.scenario()
        except LabsimError as err:
            set_message(str(err))
            return
        set_message("")
        set_draft(new)

    def pick(name: str):
        new = from_file(bundled_scenarios()[name])
        set_draft(new)
        world.reset(new)

    def upload(info):
        set_notice("")
        try:
            check_upload_size(info["name"], info["size"])  # before reading it
            new = from_upload(info["name"], info["file_obj"].read())
        except LabsimError as err:
            set_message(str(err))
            return
        set_draft(new)
        world.reset(new)
        set_notice(text("app_upload_ok", lang, name=info["name"]))

    return Edits(change, pick, upload)


@solara.component
def Page():
    """The page: the title and language, the levers on the left, the world on the right."""
    start = solara.use_memo(_start, [])
    draft, set_draft = solara.use_state(start[0])
    lang, set_lang = solara.use_state(start[1])
    message, set_message = solara.use_state("")
    notice, set_notice = solara.use_state("")
    world = use_world(start[0], draft, set_message)
    edits = scenario_edits(draft, set_draft, world, lang, set_message, set_notice)

    scenario = draft.scenario()
    solara.Title(text("app_title", lang))
    with solara.Row(justify="space-between", style={"align-items": "center"}):
        solara.Text(text("app_title", lang), style={"font-size": "1.5em", "font-weight": "bold"})
        solara.ToggleButtonsSingle(value=lang, values=list(LANGS), on_value=set_lang, classes=["labsim-lang"])
    with solara.Columns([4, 9]):
        Levers(draft, scenario, lang, edits.change, edits.pick, edits.upload, world.model)
        World(world.model, draft, lang, message, notice, world.playing, world.reset, world.step, world.toggle)


@solara.component
def Levers(draft, scenario, lang, change, pick, upload, model):
    """The left column: scenario, levers and downloads."""
    with solara.Column():
        with solara.Card(text("app_scenario", lang)):
            names = list(bundled_scenarios())
            solara.v.Select(label=text("app_scenario", lang), v_model=scenario.name if scenario.name in names else None,
                            items=scenario_items(lang), on_v_model=pick, class_="labsim-scenario-pick")
            solara.Text(draft.description(lang), style={"font-size": "0.8em"}, classes=["labsim-description"])
            solara.FileDrop(label=text("app_upload", lang), on_file=upload, lazy=True)
        with solara.Card(text("app_levers", lang)):
            solara.Text(text("app_levers_note", lang), style={"font-size": "0.8em"})
            for shown in shown_for(scenario):
                path = shown.lever.path
                LeverControl(shown, shown.value, lambda v, p=path: change(p, v), lang)
        with solara.Card(text("app_downloads", lang)):
            download_link(draft.toml().encode("utf-8"), f"{scenario.name}.toml", text("app_download_toml", lang),
                          "application/toml", "labsim-toml")
            ReportDownload(lambda: run_report(model, draft, lang), f"report-{lang}.html",
                           text("app_download_report", lang), "labsim-report", (model, model.week, lang))



@solara.component
def World(model, draft, lang, message, notice, playing, reset, step, toggle):
    """The right column: the world running week by week, and the size answer."""
    with solara.Column():
        if message:
            note(message, "error", ["labsim-error"])
        if notice:
            note(notice, "info")
        with solara.Row(classes=["labsim-controls"]):
            solara.Button(text("app_reset", lang), on_click=lambda: reset(), color="primary", classes=["labsim-reset"])
            solara.Button(text("app_step", lang), on_click=lambda: step(1), disabled=playing or model.finished,
                          color="primary", classes=["labsim-step"])
            solara.Button(text("app_pause" if playing else "app_run", lang), on_click=toggle,
                          disabled=model.finished, classes=["labsim-run"])
            WeekLabel(model, lang)
        with solara.Columns([1, 1]):
            ParticipantsChart(model, lang)
            ArmsChart(model, lang)
        with solara.Columns([1, 1]):
            StocksChart(model, lang)
            SizePanel(draft, lang).key(f"size-{draft.source}")  # a new scenario: the old answer goes
        PlanPanel(draft, lang).key(f"plan-{draft.source}")


@solara.component
def WeekLabel(model: LiveModel, lang: str):
    from mesa.visualization.utils import update_counter

    update_counter.get()
    solara.Text(text("app_week", lang, week=model.week, weeks=model.settings.weeks), classes=["labsim-week"])
