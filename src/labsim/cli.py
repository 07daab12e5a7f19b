"""The `labsim` command: list, validate and run scenarios; sweep experiments and summarise them;
redraw charts and write reports.

Every command runs inside `main`, which turns what can go wrong into one line on stderr and an exit
code, never a traceback: bad input (a missing file, a wrong field, a bad option: every option's value is
checked by the types of `labsim.cli_args` before any work) names the file and the field (exit 2); a file
system error names the path (exit 1); Ctrl-C (exit 130) and SIGTERM (exit 143) stop the command however
early or late they come, and output folders written with `labsim.results.output` are left as they were;
any other exception is a bug, reported as such (exit 1; `--debug` shows its traceback). Heavy libraries
(the model, mesa, matplotlib) are imported inside the commands that need them, so `labsim scenarios`
and `labsim validate` start fast.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tomllib
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from labsim import __version__
from labsim.cli_args import (
    MAX_BATCH, MAX_BUDGET, MAX_SIMS, MAX_WORKERS, Parser, check_horizon, check_out_file, count, fraction, horizon,
    out_dir, out_file, seed, size, weeks, workers,
)
from labsim.catalog import (
    bundled, experiments_dir, is_experiment, is_targets, resolve_experiment, resolve_scenario, resolve_targets,
    scenarios_dir,
)
from labsim.config.errors import LabsimError

EXIT_INPUT = 2  # argparse's own exit code for usage errors; bad scenarios and options use it too
EXIT_FAILED = 1  # the command could not finish: a file system error, or a bug in labsim
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM), e.g. from `kill` or a batch system's time limit


def _load_experiment(name: str, overrides: list[str], replications: int | None = None):
    from labsim.config.experiment import load_experiment

    if overrides:
        raise LabsimError(f"{name}: --set applies to scenarios; change an experiment in its file (`set = [...]`)")
    return load_experiment(resolve_experiment(name), replications=replications, find_scenario=resolve_scenario)


def _load(name: str, overrides: list[str]):
    from labsim.config.scenario import load_scenario

    path = resolve_scenario(name)
    return path, load_scenario(path, overrides)


# -- commands ---------------------------------------------------------------------------------------


def cmd_scenarios(args: argparse.Namespace) -> int:
    """One line per bundled scenario: its name and the first line of its description."""
    return _list_bundled(scenarios_dir(), "scenarios")


def cmd_experiments(args: argparse.Namespace) -> int:
    """One line per bundled experiment: its name and the first line of its description."""
    return _list_bundled(experiments_dir(), "experiments")


def _list_bundled(folder: Path, what: str) -> int:
    found = bundled(folder)
    if not found:
        print(f"no {what} in {folder}", file=sys.stderr)
        return 0
    width = max(map(len, found))
    for name, path in found.items():
        try:
            with path.open("rb") as fh:
                description = str(tomllib.load(fh).get("description", "")).strip()
        except (ValueError, RecursionError):  # not TOML, not UTF-8, too deep
            description = "(not valid TOML: run `labsim validate` on it)"
        print(f"{name:<{width}}  {description.splitlines()[0] if description else ''}".rstrip())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every file given; report each problem on one line; exit 2 if any file fails."""
    failed = False
    for name in args.files:
        try:
            if is_targets(name):
                from labsim.config.targets import load_targets

                load_targets(resolve_targets(name))
            elif is_experiment(name):
                from labsim.sweep.sweep import check_outputs

                check_outputs(_load_experiment(name, args.overrides))  # what `sweep` would refuse
            else:
                _load(name, args.overrides)
        except LabsimError as err:
            print(f"labsim: error: {err}", file=sys.stderr)
            failed = True
        else:
            print(f"ok: {name}")
    return EXIT_INPUT if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario week by week and write its run folder; print its headline figures."""
    path, scenario = _load(args.scenario, args.overrides)
    weeks = args.weeks if args.weeks is not None else scenario.weeks
    out = Path(args.out) if args.out else Path("runs") / f"{path.stem}-seed{args.seed}"

    from labsim.results.output import claim_out_dir, write_run

    with claim_out_dir(out, args.force):  # refused before a long run, not after it; held until written
        from tqdm import tqdm

        from labsim.report.charts import write_charts_for
        from labsim.results.summary import results_of
        from labsim.world.model import PilotModel

        quiet = args.json or not sys.stderr.isatty()
        if not quiet:
            print(f"{path.stem}: drawing the area and running its burn-in ...", file=sys.stderr, flush=True)
        model = PilotModel(scenario, rng=args.seed)
        for _ in tqdm(range(weeks), desc=path.stem, unit="week", file=sys.stderr, disable=quiet):
            model.run_for(1)
        result = results_of(model)
        if not quiet:
            print(f"{path.stem}: writing results{'' if args.no_charts else ' and drawing charts'} ...",
                  file=sys.stderr, flush=True)
        write_run(
            result, scenario, source=str(path), seed=args.seed, weeks=weeks, overrides=args.overrides,
            out_dir=out, force=args.force,
            also=None if args.no_charts else write_charts_for,  # drawn from the files just written
        )
    if args.json:
        print((out / "summary.json").read_text(encoding="utf-8"), end="")
    else:
        from labsim.report.answers import run_text

        print(run_text(result.summary, path, args.seed, out, scenario.design.primary_horizon_weeks))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """Redraw an output folder's charts from its saved results (no simulation)."""
    from labsim.report.charts import write_charts_for

    paths = write_charts_for(Path(args.folder), lang=args.lang, svg=args.svg)
    if not paths:
        print(f"{args.folder}: no charts apply to this folder", file=sys.stderr)
    for path in paths:
        print(path)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the planner's report of an output folder as one self-contained HTML file."""
    from labsim.report.report import write_report
    from labsim.report.saved import kind_of

    kind_of(Path(args.folder))  # a clear error before any drawing
    check_out_file("--out", args.out or Path(args.folder) / f"report-{args.lang}.html")
    print(write_report(Path(args.folder), lang=args.lang, out=Path(args.out) if args.out else None))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run every point x replication of an experiment into a resumable results folder."""
    _engine(args)
    from labsim.sweep.sweep import run_sweep

    plan = _load_experiment(args.experiment, [], args.replications)
    exp = plan.experiment

    def header() -> None:  # once every check has passed: a refusal stays one line
        print(f"{exp.name}: {len(plan.points)} points x {exp.replications} replications, root seed {exp.seed}"
              f" -> {args.out}/", file=sys.stderr)

    try:
        report = run_sweep(plan, args.out, engine=args.engine, workers=args.workers,
                           scheduler=args.scheduler, resume=args.resume, progress=True, on_start=header)
    except KeyboardInterrupt as stop:
        how = "stopped by SIGTERM" if isinstance(stop, Terminated) else "interrupted"
        if (Path(args.out) / "manifest.json").is_file():
            print(f"labsim: {how}; finished chunks are kept in {args.out}/: continue with "
                  f"`labsim sweep {args.experiment} --out {args.out} --resume`", file=sys.stderr)
        else:
            print(f"labsim: {how}; nothing written", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    if report.already_finished:
        print(f"{args.out}: sweep already finished ({report.rows:,} rows); nothing to do")
        return 0
    from labsim.report.charts import write_charts_for

    print("drawing the charts ...", file=sys.stderr, flush=True)
    write_charts_for(Path(args.out))
    print(f"{report.rows:,} runs ({report.failed:,} failed) in {report.seconds:,.1f} s; ran "
          f"{report.chunks_run} of {report.chunks_total} chunks -> {args.out}/results.parquet and charts/\n"
          f"Summary by point: labsim results {args.out}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit scenario parameters to published targets (simulated method of moments, docs/calibration.md)."""
    _engine(args)
    from datetime import date

    from labsim.config.scenario import apply_overrides, read_scenario_dict
    from labsim.config.targets import load_targets
    from labsim.design.calibrate import Plan, calibrate, calibrated_toml, open_store, parameters_from
    from labsim.results.output import write_atomically, write_json

    path = resolve_scenario(args.scenario)
    _, scenario = _load(args.scenario, args.overrides)  # a bad scenario or --set stops here, one line
    data = apply_overrides(read_scenario_dict(path), args.overrides, str(path))
    resolved = scenario.model_dump(mode="json")
    targets = load_targets(resolve_targets(args.targets))
    if args.params is not None and not args.params.replace(",", "").strip():
        raise LabsimError(f"--params {args.params!r} names no field; name the fields to fit "
                          "(e.g. --params market.matching_efficiency=0.01:0.05), or leave --params out to fit "
                          "the scenario's [[assumptions]]")
    specs = [s for s in (args.params or "").split(",") if s] or [a["path"] for a in data.get("assumptions", [])]
    plan = Plan(data, str(path), targets, parameters_from(resolved, specs, str(path), data.get("assumptions")),
                budget=args.budget, replications=args.replications, seed=args.seed)
    out = Path(args.out) if args.out else Path("runs") / f"{path.stem}-calibrate"
    open_store(plan, out, args.resume)  # settings, bounds and the folder are refused before the header

    def header() -> None:  # once the engine is up too: a refusal stays one line
        if not args.json:
            print(f"{path.stem}: fitting {', '.join(p.path for p in plan.parameters)} to {len(targets.targets)} "
                  f"targets; {plan.budget} candidates x {len(plan.variants)} settings x {plan.replications} "
                  f"replications -> {out}/", file=sys.stderr)

    try:
        cal = calibrate(plan, out, engine=args.engine, workers=args.workers, scheduler=args.scheduler,
                        resume=args.resume, progress=not args.json, on_start=header)
    except KeyboardInterrupt as stop:
        how = "stopped by SIGTERM" if isinstance(stop, Terminated) else "interrupted"
        if (out / "manifest.json").is_file():
            print(f"labsim: {how}; finished candidates are kept in {out}/: continue with the same "
                  "command and --resume", file=sys.stderr)
        else:
            print(f"labsim: {how}; nothing written", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    from labsim.report.calibration import write_calibration_chart

    today = date.today().isoformat()
    write_atomically(out / "calibration.json", lambda tmp: write_json(tmp, cal.to_json()))
    toml = calibrated_toml(path.read_text(encoding="utf-8"), plan, cal, today, resolve_targets(args.targets).name)
    write_atomically(out / "calibrated.toml", lambda tmp: tmp.write_text(toml, encoding="utf-8"))
    write_calibration_chart(cal, out)
    if args.json:
        print(json.dumps(cal.to_json(), indent=2))
    else:
        from labsim.report.answers import calibration_text

        print(calibration_text(cal, out))
    return 0


def cmd_validation(args: argparse.Namespace) -> int:
    """Simulate the published claims on a bundled scenario; write the table as JSON, HTML and Markdown."""
    from labsim.config.scenario import read_scenario_dict
    from labsim.design.validation import validate
    from labsim.report.validation import html, markdown
    from labsim.results.output import write_atomically, write_json

    path = resolve_scenario(args.scenario)
    _load(args.scenario, [])
    data = read_scenario_dict(path)
    targets = [resolve_targets("finland_labour_market"), resolve_targets("provider_effects")]
    others = {n: read_scenario_dict(resolve_scenario(n)) for n in ("slack_market", "fi_2016_job_placement_pilots")}
    out = Path(args.out)
    from labsim.results.output import check_writable

    try:
        check_writable(out)
    except LabsimError as err:
        raise LabsimError(f"--out {err}") from None
    if args.markdown:
        check_out_file("--markdown", args.markdown)
    out.mkdir(parents=True, exist_ok=True)
    try:
        answer = validate(data, str(path), *targets, out, slack=others["slack_market"],
                          pilots_2016=others["fi_2016_job_placement_pilots"], replications=args.replications,
                          seed=args.seed, workers=args.workers)
    except KeyboardInterrupt as stop:  # the runs of claims 1, 7 and 8 finished so far are kept, for a rerun
        how = "stopped by SIGTERM" if isinstance(stop, Terminated) else "interrupted"
        if (out / "runs" / "manifest.json").is_file():
            print(f"labsim: {how}; finished runs are kept in {out / 'runs'}/ and no table was written: "
                  "the same command continues from them", file=sys.stderr)
        else:
            print(f"labsim: {how}; nothing written", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    write_atomically(out / "validation.json", lambda tmp: write_json(tmp, answer.to_json()))
    page = html(answer, args.lang)
    write_atomically(out / "validation.html", lambda tmp: tmp.write_text(page, encoding="utf-8"))
    md = markdown(answer)
    if args.markdown:
        write_atomically(Path(args.markdown), lambda tmp: tmp.write_text(md, encoding="utf-8"))
    print(md)
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Serve the interactive page for what-ifs (needs the app extra); runs until Ctrl-C."""
    if not 0 <= args.port <= 65535:
        raise LabsimError(f"--port must be 0-65535 (got {args.port})")
    from labsim.app.server import check_extra

    check_extra()  # before anything else: without the extra, one line says how to get it
    path = resolve_scenario(args.scenario)
    from labsim.app.server import check_start, run_server

    start = check_start(path, args.host, args.port, args.allow_remote)  # before the address is printed
    if start.token is not None:
        print(f"labsim app: warning: serving on {args.host} for other machines: anyone who can reach this "
              "address and has its token can run simulations and upload scenario files", file=sys.stderr)
    print(f"labsim app: {start.url} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    return run_server(path, args.lang, start.host, start.port, start.token)


def cmd_results(args: argparse.Namespace) -> int:
    """A sweep's summary table by point: print it, or export it to CSV / Excel."""
    import json

    from labsim.results.output import write_atomically
    from labsim.sweep.store import Store
    from labsim.report.workbook import results_text
    from labsim.sweep.tables import point_table, table_json

    table = point_table(Store(args.dir))
    for option, target in (("--csv", args.csv), ("--xlsx", args.xlsx)):
        if target and not Path(target).absolute().parent.is_dir():
            raise LabsimError(f"{option} {target}: no such folder {Path(target).absolute().parent}")
    if args.csv:
        write_atomically(Path(args.csv), lambda p: table.frame.to_csv(p, index=False))
    if args.xlsx:
        from labsim.report.workbook import write_workbook

        write_atomically(Path(args.xlsx), lambda p: write_workbook(table, p, args.lang))
    print(json.dumps(table_json(table), indent=2) if args.json else results_text(table, args.lang))
    return 0


def _design_scenario(args: argparse.Namespace):
    """The scenario of `diagnose` / `size`, with `--design` applied."""
    overrides = list(args.overrides)
    if args.design:
        overrides.append(f"design.randomisation={args.design}")
    path, scenario = _load(args.scenario, overrides)
    return path, scenario, overrides


def _primary(args: argparse.Namespace, scenario) -> int:
    """The horizon asked (`--horizon`), else the scenario's primary one; checked against the weeks run."""
    h = scenario.design.primary_horizon_weeks if args.horizon is None else args.horizon
    check_horizon(h, scenario.weeks)
    return h


def cmd_diagnose(args: argparse.Namespace) -> int:
    """Simulate the pilot many times and report its diagnosands with Monte Carlo SEs."""
    path, scenario, overrides = _design_scenario(args)
    args.horizon = _primary(args, scenario)
    out = Path(args.out) if args.out else Path("runs") / f"{path.stem}-diagnose"
    from labsim.results.output import check_out_dir

    check_out_dir(out, args.force)
    from labsim.design.diagnose import diagnose
    from labsim.report.answers import diagnosis_text

    answer, rows = diagnose(scenario, sims=args.sims, horizon=args.horizon, alpha=args.alpha, seed=args.seed,
                            workers=args.workers, progress=not args.json, **_engine(args))
    from labsim.design.output import write_diagnosis_folder
    from labsim.report.charts import write_charts_for

    if not args.json:
        print("drawing the charts ...", file=sys.stderr, flush=True)
    write_diagnosis_folder(out, answer, rows, scenario, source=str(path), overrides=overrides, force=args.force,
                           also=write_charts_for)
    print(json.dumps(answer.to_json(), indent=2) if args.json else diagnosis_text(answer, out))
    return 0


def cmd_size(args: argparse.Namespace) -> int:
    """Find the smallest pilot that reaches the target power: the size job (design/size_job.py), its
    answer written to a size folder and printed."""
    from labsim.config.scenario import CLUSTER_DESIGNS
    from labsim.design.evidence import ranges_of
    from labsim.design.size import SearchSettings, type_i_pilots
    from labsim.design.output import write_size_folder
    from labsim.design.size_job import SizeRequest, admissible, run_size

    start = ""
    if args.by == "offices" and args.design in CLUSTER_DESIGNS:  # start where the cluster design is admissible
        path, scenario = _load(args.scenario, list(args.overrides))
        scenario, start = admissible(scenario, args.design, str(path), args.alpha)
    else:
        path, scenario, _ = _design_scenario(args)
    args.horizon = _primary(args, scenario)
    out = Path(args.out) if args.out else Path("runs") / f"{path.stem}-size"
    search = SearchSettings(by=args.by, power=args.power, alpha=args.alpha, horizon=args.horizon, batch=args.batch,
                        budget=args.budget, max_size=args.max_size, seed=args.seed, workers=args.workers,
                        precision=args.precision, progress=not args.json,
                        type_i_sims=type_i_pilots(scenario.design.randomisation), **_engine(args))
    request = SizeRequest(search, tuple(ranges_of(scenario, args.vary)), args.assurance, args.estimand)
    request.check()
    from labsim.results.output import check_out_dir

    check_out_dir(out, args.force)
    done = run_size(scenario, request, start=start)
    overrides = list(args.overrides) + ([f"design.randomisation={args.design}"] if args.design else [])
    from labsim.report.answers import size_text
    from labsim.report.charts import write_charts_for

    if not args.json:
        print("drawing the charts ...", file=sys.stderr, flush=True)
    write_size_folder(out, done, scenario, source=str(path), overrides=overrides, force=args.force,
                      also=write_charts_for)
    print(json.dumps(done.answer.to_json(), indent=2) if args.json else size_text(done.answer, out))
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """Among the levers named, the cheapest pilot that answers with the assurance asked, or the best one
    --max-cost buys (docs/plan.md)."""
    path, scenario, overrides = _design_scenario(args)
    args.horizon = _primary(args, scenario)
    if scenario.costs is None:
        raise LabsimError(f"{path}: no [costs] table; labsim plan needs the buyer's costs (docs/plan.md lists them)")
    from labsim.design.plan import PlanSettings, parse_levers, plan

    levers = parse_levers(args.vary)
    s = PlanSettings(max_cost=args.max_cost, assurance=args.assurance, alpha=args.alpha, horizon=args.horizon,
                     probe=args.probe, batch=args.batch, budget=args.budget, precision=args.precision,
                     frontier=args.frontier, seed=args.seed, workers=args.workers, progress=not args.json,
                     **_engine(args))
    s.check()
    out = Path(args.out) if args.out else Path("runs") / f"{path.stem}-plan"
    if not args.resume:
        from labsim.results.output import check_out_dir

        check_out_dir(out, args.force)
    answer = plan(scenario, levers, s, out, resume=args.resume).answer()
    from labsim.report.plan import plan_text, write_plan_report
    from labsim.results.output import write_json

    write_plan_report(answer, out)
    write_json(out / "plan.json", answer.to_json())
    print(json.dumps(answer.to_json(), indent=2) if args.json else plan_text(answer, out))
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Rank the assumptions by how much they move the power at the planned size over their ranges."""
    path, scenario, overrides = _design_scenario(args)
    args.horizon = _primary(args, scenario)
    out = Path(args.out) if args.out else Path("runs") / f"{path.stem}-sensitivity"
    from labsim.design.sensitivity import SensitivitySettings, analyse, ranges_to_vary

    s = SensitivitySettings(method=args.method, by=args.by, at_size=args.at_size, trajectories=args.trajectories,
                            sims=args.sims, max_sims=max(args.max_sims, args.sims), horizon=args.horizon,
                            alpha=args.alpha, seed=args.seed, workers=args.workers, progress=not args.json,
                            **_engine(args))
    s.check()
    ranges = ranges_to_vary(scenario, [p for item in args.params for p in item.split(",") if p.strip()])
    from labsim.results.output import check_out_dir

    check_out_dir(out, args.force)
    answer = analyse(scenario, ranges, s)
    from labsim.design.output import write_sensitivity_folder
    from labsim.report.charts import write_charts_for

    write_sensitivity_folder(out, answer, scenario, source=str(path), overrides=overrides, force=args.force,
                             also=write_charts_for)
    from labsim.report.answers import sensitivity_text

    print(json.dumps(answer.to_json(), indent=2) if args.json else sensitivity_text(answer, out))
    return 0


# -- parser and entry point -----------------------------------------------------------------------------


LANGS = ("en", "fi", "sv")


def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="dotted.path=value",
        help="override a scenario field, e.g. --set referral.mode=mandatory (repeatable)",
    )


def _add_engine(p: argparse.ArgumentParser) -> None:
    """`--engine` and `--scheduler`, the same on every command that simulates many pilots."""
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local processes (default) or a Dask cluster (pip install 'labsim[dask]')")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="the Dask scheduler, e.g. tcp://10.0.0.1:8786, with --engine dask (default: "
                   "$DASK_SCHEDULER_ADDRESS, else a local Dask cluster of --workers processes)")


def _engine(args: argparse.Namespace) -> dict[str, Any]:
    """The engine asked: refused on one line when --scheduler comes without --engine dask."""
    if args.scheduler and args.engine != "dask":
        raise LabsimError("--scheduler needs --engine dask")
    return {"engine": args.engine, "scheduler": args.scheduler}


def _add_design_options(p: argparse.ArgumentParser, command: str, answer: str) -> None:
    """Options `diagnose` and `size` share: design, horizon, alpha, seed, workers, output."""
    p.add_argument("--design", choices=("individual", "office", "saturation", "area"), help="evaluation design")
    p.add_argument("--horizon", type=horizon, default=None,
                   help="weeks after assignment employment is measured: 13, 26 or 52, at most the weeks "
                   "simulated (default: the scenario's design.primary_horizon_weeks, 26 unless it says)")
    p.add_argument("--alpha", type=fraction, default=0.05, help="significance level, in (0, 1) (default 0.05)")
    p.add_argument("--seed", type=seed, default=1, help="root seed, 0 to 2^63 - 1 (default 1)")
    p.add_argument("--workers", type=workers, default=None,
                   help=f"worker processes, 1 to {MAX_WORKERS:,} (default: every core)")
    p.add_argument("--out", type=out_dir, metavar="DIR", help=f"output folder (default runs/<name>-{command})")
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--json", action="store_true", help=f"print {answer} instead of the table")
    _add_engine(p)
    _add_overrides(p)


def build_parser() -> argparse.ArgumentParser:
    """The `labsim` command's parser: a subparser per command, each added by its `_add_<command>`."""
    parser = Parser(
        prog="labsim", description="Simulate a job-placement pilot before it is launched."
    )
    parser.add_argument("--version", action="version", version=f"labsim {__version__}")
    parser.add_argument(
        "--debug", action="store_true",
        help="show the traceback of an unexpected error (may also follow the command)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_scenarios, _add_experiments, _add_validate, _add_run, _add_plot, _add_report,
                _add_diagnose, _add_size, _add_plan, _add_sensitivity, _add_calibrate, _add_validation,
                _add_sweep, _add_results, _add_app):
        add(sub)
    return parser


def _add_scenarios(sub) -> None:
    p = sub.add_parser("scenarios", help="list the bundled scenarios")
    p.set_defaults(func=cmd_scenarios)


def _add_experiments(sub) -> None:
    p = sub.add_parser("experiments", help="list the bundled experiments (for labsim sweep)")
    p.set_defaults(func=cmd_experiments)


def _add_validate(sub) -> None:
    p = sub.add_parser("validate", help="check scenario, experiment and targets files against their schemas")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="scenario, experiment or targets file, or a bundled one's name")
    _add_overrides(p)
    p.set_defaults(func=cmd_validate)


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="run one scenario and write its results and charts")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    p.add_argument("--seed", type=seed, default=1, help="random seed, 0 to 2^63 - 1 (default 1)")
    p.add_argument("--weeks", type=weeks, default=None,
                   help="pilot weeks to run, 1 to 520 (default: the scenario's; see 'Limits' in docs/model.md)")
    p.add_argument("--out", type=out_dir, metavar="DIR", help="output folder (default runs/<name>-seed<N>)")
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--json", action="store_true", help="print summary.json instead of the table")
    p.add_argument("--no-charts", action="store_true", help="skip the charts (PNG; SVG with `labsim plot DIR --svg`)")
    _add_overrides(p)
    p.set_defaults(func=cmd_run)


def _add_plot(sub) -> None:
    p = sub.add_parser("plot", help="redraw an output folder's charts from its saved results")
    p.add_argument("folder", metavar="DIR", help="a run, size, diagnose or sweep folder (or a folder of runs)")
    p.add_argument("--lang", choices=LANGS, default="en", help="language of the chart texts (default en)")
    p.add_argument("--svg", action="store_true",
                   help="also write each chart as SVG, its text kept as text (for editing); without it, PNG only, "
                        "and a chart's SVG from an earlier drawing is removed")
    p.set_defaults(func=cmd_plot)


def _add_report(sub) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report of an output folder")
    p.add_argument("folder", metavar="DIR", help="a run, size, diagnose or sweep folder (or a folder of runs)")
    p.add_argument("--lang", choices=LANGS, default="en", help="language: en, fi (suomi) or sv (svenska)")
    p.add_argument("--out", type=out_file, metavar="FILE.html", help="report file (default DIR/report-<lang>.html)")
    p.set_defaults(func=cmd_report)


def _add_diagnose(sub) -> None:
    p = sub.add_parser("diagnose", help="simulate the pilot many times: power, bias, coverage, costs")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    p.add_argument("--sims", type=count(MAX_SIMS), default=200,
                   help=f"simulated pilots, 1 to {MAX_SIMS:,} (default 200)")
    _add_design_options(p, "diagnose", "diagnosis.json")
    p.set_defaults(func=cmd_diagnose)


def _add_size(sub) -> None:
    p = sub.add_parser("size", help="find the smallest pilot that reaches the target power")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    p.add_argument("--power", type=fraction, default=0.8, help="target power, in (--alpha, 1) (default 0.8)")
    p.add_argument("--by", choices=("participants", "offices", "intake-weeks"), default="participants",
                   help="the lever that sets the pilot's size (default participants)")
    p.add_argument("--batch", type=count(MAX_BATCH, low=5), default=40,
                   help=f"simulated pilots per size tried, 5 to {MAX_BATCH:,} (default 40); each stops at the "
                   "horizon, and one more batch at the minimum size runs the full length for the accounts")
    p.add_argument("--budget", type=count(MAX_BUDGET), default=800,
                   help=f"most simulated pilots in one search, up to {MAX_BUDGET:,} (default 800: +-10 %% takes "
                   "about 500-900; the type-I check, accounts batch and roll-out worlds come on top)")
    p.add_argument("--max-size", type=size, default=None,
                   help="largest size to try (default 20x the scenario's; 'Limits' in docs/model.md)")
    p.add_argument("--precision", type=fraction, default=0.10,
                   help="stop when the 95 %% interval on the size is within +- this share of it (default 0.10)")
    p.add_argument("--vary", action="append", default=[], metavar="dotted.path=low:high",
                   help="an assumption's evidence range, e.g. providers.effort_effect=0.3:1.0 (repeatable; "
                        "adds to the scenario's [[assumptions]])")
    p.add_argument("--assurance", type=fraction, default=None,
                   help="target chance of a significant result across the evidence (default: the target power)")
    p.add_argument("--estimand", choices=("itt", "rollout"), default="itt",
                   help="size for the pilot's ITT (default) or for the roll-out effect (docs/evaluation.md)")
    _add_design_options(p, "size", "size.json")
    p.set_defaults(func=cmd_size)


def _add_plan(sub) -> None:
    p = sub.add_parser("plan", help="the cheapest pilot that answers, or the best one a budget buys")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    goal = p.add_mutually_exclusive_group()
    goal.add_argument("--max-cost", type=float, default=None, metavar="EUR",
                      help="the budget in euros: the best design it buys")
    goal.add_argument("--assurance", type=fraction, default=0.8,
                      help="target chance of a significant result: the cheapest design reaching it (default 0.8)")
    p.add_argument("--vary", action="append", default=[], metavar="lever=value1,value2",
                   help="a lever and the values to compare: referral.mode, payment.preset, design.randomisation, "
                   "design.estimator, design.treatment_share (repeatable; default: the scenario's own)")
    p.add_argument("--probe", type=count(MAX_BATCH, low=5), default=20,
                   help="pilots per candidate at the scenario's size, for the analytic bound (default 20)")
    p.add_argument("--frontier", type=count(MAX_BATCH), default=3, help="most candidates given full searches (default 3)")
    p.add_argument("--batch", type=count(MAX_BATCH, low=5), default=40, help="pilots per size tried (default 40)")
    p.add_argument("--budget", type=count(MAX_BUDGET), default=800, help="most pilots in one candidate's search (default 800)")
    p.add_argument("--precision", type=fraction, default=0.10, help="the size's interval within +- this share (default 0.10)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted plan in its --out folder")
    _add_design_options(p, "plan", "plan.json")
    p.set_defaults(func=cmd_plan)


def _add_sensitivity(sub) -> None:
    p = sub.add_parser("sensitivity", help="which assumptions move the power at the planned size most")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    p.add_argument("--method", choices=("morris", "oat"), default="morris",
                   help="Morris elementary effects (default) or one at a time (a tornado)")
    p.add_argument("--params", action="append", default=[], metavar="path=low:high[,...]",
                   help="ranges to vary besides (or instead of) the scenario's [[assumptions]] (repeatable)")
    p.add_argument("--by", choices=("participants", "offices", "intake-weeks"), default="participants",
                   help="the lever --at-size sets (default participants)")
    p.add_argument("--at-size", type=size, default=None, help="the planned size (default: the scenario's)")
    p.add_argument("--trajectories", type=count(1_000, low=2), default=10, help="Morris trajectories, 2 to 1,000 (default 10)")
    p.add_argument("--sims", type=count(MAX_SIMS), default=20, help="simulated pilots per point, the same worlds at every point (default 20)")
    p.add_argument("--max-sims", type=count(MAX_SIMS), default=200,
                   help="more pilots per point, up to this many, while a 10-point swing could not be told from "
                        "noise (default 200; --max-sims as --sims: no more)")
    _add_design_options(p, "sensitivity", "sensitivity.json")
    p.set_defaults(func=cmd_sensitivity)


def _add_calibrate(sub) -> None:
    p = sub.add_parser("calibrate", help="fit scenario parameters to published targets (simulated moments)")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    p.add_argument("--targets", required=True, metavar="FILE", help="targets file or bundled targets name")
    p.add_argument("--params", metavar="PATH[=LOW:HIGH],...",
                   help="fields to fit (default: the scenario's [[assumptions]] paths)")
    p.add_argument("--budget", type=count(MAX_BUDGET), default=40, help=f"candidates tried, up to {MAX_BUDGET:,} (default 40)")
    p.add_argument("--replications", type=count(MAX_SIMS, 2, ": a moment's SE needs two runs"), default=8,
                   help="runs per candidate and setting, 2 or more (default 8)")
    p.add_argument("--seed", type=seed, default=1, help="root seed: the same seeds for every candidate (default 1)")
    p.add_argument("--workers", type=workers, default=None, help="worker processes (default: every core)")
    _add_engine(p)
    p.add_argument("--out", type=out_dir, metavar="DIR", help="output folder (default runs/<name>-calibrate)")
    p.add_argument("--resume", action="store_true", help="continue a calibration in --out that was stopped")
    p.add_argument("--json", action="store_true", help="print calibration.json instead of the table")
    _add_overrides(p)
    p.set_defaults(func=cmd_calibrate)


def _add_validation(sub) -> None:
    p = sub.add_parser("validation", help="published claims against the simulation (docs/validation.md)")
    p.add_argument("--scenario", default="baseline", help="scenario file or bundled name (default baseline)")
    p.add_argument("--out", type=out_dir, default="runs/validation", metavar="DIR", help="output folder (default runs/validation)")
    p.add_argument("--lang", choices=LANGS, default="en", help="language of validation.html")
    p.add_argument("--markdown", type=out_file, metavar="FILE", help="also write the Markdown table there (docs/validation.md)")
    p.add_argument("--replications", type=count(MAX_SIMS, 2, ": a figure's interval needs two runs"), default=6,
                   help="runs per setting, 2 or more (default 6)")
    p.add_argument("--seed", type=seed, default=1, help="root seed (default 1)")
    p.add_argument("--workers", type=workers, default=None, help="worker processes (default: every core)")
    p.set_defaults(func=cmd_validation)


def _add_sweep(sub) -> None:
    p = sub.add_parser("sweep", help="run an experiment: every point x replication, resumable")
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment file or bundled experiment name")
    p.add_argument("--out", type=out_dir, metavar="DIR", required=True,
                   help="results folder (new, or with --resume)")
    p.add_argument("--workers", type=workers, default=None, metavar="N",
                   help=f"worker processes, 1 to {MAX_WORKERS:,} (default: every core; 1 runs in this process)")
    _add_engine(p)
    p.add_argument("--resume", action="store_true", help="continue the sweep in DIR where it stopped")
    p.add_argument("--replications", type=size, default=None, metavar="N",
                   help="replications per point instead of the file's (a quick first look; the experiment's "
                   "ceilings apply, docs/experiments.md)")
    p.set_defaults(func=cmd_sweep)


def _add_results(sub) -> None:
    p = sub.add_parser("results", help="a sweep's summary by point (means and intervals)")
    p.add_argument("dir", metavar="DIR", help="the sweep's results folder")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--csv", type=out_file, metavar="FILE", help="also write the table as CSV")
    p.add_argument("--xlsx", type=out_file, metavar="FILE",
                   help="also write the table as an Excel workbook (labelled, explained)")
    p.add_argument("--lang", choices=LANGS, default="en", help="language of the table and the workbook (default en)")
    p.set_defaults(func=cmd_results)


def _add_app(sub) -> None:
    p = sub.add_parser("app", help="serve an interactive page for what-ifs (needs pip install 'labsim[app]')")
    p.add_argument("--scenario", default="baseline", metavar="NAME|FILE", help="starting scenario (default baseline)")
    p.add_argument("--port", type=int, default=8765, help="port to serve on (default 8765)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; another needs --allow-remote)")
    p.add_argument("--allow-remote", action="store_true",
                   help="let a --host other machines can reach serve the page; its address then carries a token")
    p.add_argument("--lang", choices=LANGS, default="en", help="page language at start (default en)")
    p.set_defaults(func=cmd_app)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds like Ctrl-C (temporary output removed)."""


class _Signals:
    """Ctrl-C and SIGTERM while a command runs: the signals received, and whether one may still raise."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.armed = True

    def stop(self, signum, frame) -> None:
        self.received.append(signum)
        if self.armed and len(self.received) == 1:
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    def disarm(self) -> None:
        """From now on a signal is noted, not raised (the command is over: only its exit code changes)."""
        self.armed = False


@contextmanager
def _signals_as_exceptions() -> Iterator[_Signals]:
    """While a command runs, Ctrl-C raises KeyboardInterrupt and SIGTERM `Terminated`. Only the first
    signal raises: later ones are noted, so the clean-up it starts is not cut short. An interrupt a
    library swallows (raised inside a finaliser, say) is still noted, so the command never exits 0
    after one, and prints no traceback. After a signal, both stay ignored until the process exits.
    Only the main thread can handle signals; elsewhere they are left alone."""
    import labsim

    signals = _Signals()
    signals.received += labsim.EARLY_SIGNALS

    def unraisable(hook) -> None:
        if not isinstance(hook.exc_value, KeyboardInterrupt):
            previous_hook(hook)

    try:
        previous = {sig: signal.signal(sig, signals.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread
        yield signals
        return
    previous_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    try:
        yield signals
    finally:
        sys.unraisablehook = previous_hook
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if signals.received else handler)


@contextmanager
def _warnings_held(debug: bool) -> Iterator[None]:
    """Library warnings (numerical, deprecation, a web framework's) never reach the planner's terminal:
    caught here and, in worker processes started meanwhile, ignored through PYTHONWARNINGS. `--debug`
    shows them at the end. What a planner must know is said in the answer itself, in words."""
    import warnings

    before = os.environ.get("PYTHONWARNINGS")
    if not debug:
        os.environ["PYTHONWARNINGS"] = "ignore"
    try:
        with warnings.catch_warnings(record=True) as caught:
            yield
    finally:
        if before is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = before
    if debug:
        for w in caught:
            print(warnings.formatwarning(w.message, w.category, w.filename, w.lineno).rstrip(), file=sys.stderr)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _os_error(err: OSError) -> str:
    """An OSError as `path: what went wrong` (the path first, as a planner looks for it)."""
    what = err.strerror or " ".join(str(err).split()) or type(err).__name__
    paths = [p for p in (err.filename, err.filename2) if p is not None]
    return f"{' -> '.join(map(str, paths))}: {what}" if paths else what


def main(argv: list[str] | None = None) -> int:
    """The command line: runs one command and returns its exit code (see the module's docstring; `entry` exits).

    Every subcommand gets the same handling, so a new one only has to declare its options with the
    types of `labsim.cli_args`, raise `LabsimError` for bad input and write its folders with
    `labsim.results.output.staged_dir` / `claim_out_dir` (files with `write_atomically`).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # anywhere on the line, before or after the command
    argv = [a for a in argv if a != "--debug"]
    command = next((a for a in argv if not a.startswith("-")), "labsim")
    code = EXIT_FAILED
    with _signals_as_exceptions() as signals, _warnings_held(debug):
        try:
            try:
                if signals.received:  # while the command was starting
                    raise KeyboardInterrupt
                args = build_parser().parse_args(argv)
                command = args.command
                code = args.func(args)
            finally:
                signals.disarm()  # a signal from here on sets the exit code, never a traceback
        except LabsimError as err:
            print(f"labsim: error: {' '.join(str(err).split())}", file=sys.stderr)
            code = EXIT_INPUT
        except KeyboardInterrupt as stop:  # reported below
            if not signals.received:  # raised by someone else's handler
                signals.received.append(signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)
        except MemoryError:
            if debug:
                traceback.print_exc()
            print(
                f"labsim: error: '{command}' ran out of memory; use a smaller world or fewer weeks "
                "(see 'Limits' in docs/model.md)", file=sys.stderr,
            )
        except OSError as err:  # e.g. no permission or no space in the output folder
            if debug:
                traceback.print_exc()
            print(f"labsim: error: {_os_error(err)}", file=sys.stderr)
        except Exception as err:
            if debug:
                traceback.print_exc()
            if not signals.received:  # else a consequence of the signal (workers it stopped): reported below
                hint = "" if debug else " (rerun with --debug to see the traceback)"
                print(f"labsim: internal error in '{command}': {_one_line(err)}; please report this{hint}",
                      file=sys.stderr)
        if signals.received and code not in (EXIT_INTERRUPTED, EXIT_TERMINATED):
            terminated = signals.received[0] == signal.SIGTERM
            how = "stopped by SIGTERM" if terminated else "interrupted"
            print(f"labsim: '{command}' {how}; no half-written output is left", file=sys.stderr)
            code = EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    return code


def entry() -> None:
    """The `labsim` command and `python -m labsim`: `main`, then, when a signal stopped the command, an exit
    that skips the interpreter's finalization. By then `main` has closed its pools and left no half-written
    output; finalizing after a signal can still crash in a C extension's thread or meet the signal again
    (exit -6 or -2 instead of 130 or 143, seen under load)."""
    code = main()
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed or broken pipe: nothing more to say
                pass
        os._exit(code)
    sys.exit(code)

