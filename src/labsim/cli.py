"""The `labsim` command: list, validate and run scenarios; sweep experiments and summarise them;
redraw charts and write reports.

Every command runs inside `main`, which turns what can go wrong into one line on stderr and an exit
code, never a traceback: bad input (a missing file, a wrong field, a bad option) names the file and the
field (exit 2); a file system error says what failed (exit 1); Ctrl-C (exit 130) and SIGTERM (exit 143)
stop the command, and output folders written with `labsim.results.output` are left as they were; any
other exception is a bug, reported as such (exit 1; `--debug` shows its traceback). Heavy libraries
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
from importlib import resources
from pathlib import Path
from typing import Any

from labsim import __version__
from labsim.config.errors import LabsimError

EXIT_INPUT = 2  # argparse's own exit code for usage errors; bad scenarios and options use it too
EXIT_FAILED = 1  # the command could not finish: a file system error, or a bug in labsim
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM), e.g. from `kill` or a batch system's time limit


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


def bundled(folder: Path | None = None) -> dict[str, Path]:
    """Bundled scenario (or, given their folder, experiment) files by name (file stem), sorted."""
    folder = scenarios_dir() if folder is None else folder
    # resolved, so that in a checkout the path shown is the file to edit (scenarios/ at the root)
    return {p.stem: p.resolve() for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}


def resolve_scenario(name: str) -> Path:
    """A scenario given as a path, or as the name of a bundled scenario."""
    path = Path(name)
    if path.is_file() or path.suffix == ".toml" or len(path.parts) > 1:
        return path  # a missing path is reported by the loader, naming the file
    found = bundled()
    if name in found:
        return found[name]
    names = ", ".join(found) or f"none in {scenarios_dir()}"
    raise LabsimError(f"{name}: no such scenario file or bundled scenario (bundled: {names})")


def resolve_experiment(name: str) -> Path:
    """An experiment given as a path, or as the name of a bundled experiment."""
    path = Path(name)
    if path.is_file() or path.suffix == ".toml" or len(path.parts) > 1:
        return path  # a missing path is reported by the loader, naming the file
    found = bundled(experiments_dir())
    if name in found:
        return found[name]
    names = ", ".join(found) or f"none in {experiments_dir()}"
    raise LabsimError(f"{name}: no such experiment file or bundled experiment (bundled: {names})")


def _is_experiment(name: str) -> bool:
    """An experiment is named as a bundled one, or is a TOML file naming its base `scenario`."""
    path = Path(name)
    if not path.is_file():
        return name in bundled(experiments_dir()) and name not in bundled()
    try:
        with path.open("rb") as fh:
            return "scenario" in tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False  # the scenario loader reports it, naming the file


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
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            description = "(not valid TOML: run `labsim validate` on it)"
        print(f"{name:<{width}}  {description.splitlines()[0] if description else ''}".rstrip())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every file given; report each problem on one line; exit 2 if any file fails."""
    failed = False
    for name in args.files:
        try:
            if _is_experiment(name):
                _load_experiment(name, args.overrides)
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
    if args.seed < 0:
        raise LabsimError(f"--seed must be a whole number 0 or more (got {args.seed})")
    from labsim.config.parts import LIMITS_DOC, MAX_WEEKS

    if args.weeks is not None and not 1 <= args.weeks <= MAX_WEEKS:
        raise LabsimError(
            f"--weeks must be a whole number 1 or more and at most {MAX_WEEKS} (got {args.weeks}); "
            f"{LIMITS_DOC}"
        )
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
        model = PilotModel(scenario, rng=args.seed)
        for _ in tqdm(range(weeks), desc=path.stem, unit="week", file=sys.stderr, disable=quiet):
            model.run_for(1)
        result = results_of(model)
        write_run(
            result, scenario, source=str(path), seed=args.seed, weeks=weeks, overrides=args.overrides,
            out_dir=out, force=args.force,
            also=None if args.no_charts else write_charts_for,  # drawn from the files just written
        )
    if args.json:
        print((out / "summary.json").read_text(encoding="utf-8"), end="")
    else:
        print(headline(result.summary, path, args.seed, out))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """Redraw an output folder's charts from its saved results (no simulation)."""
    from labsim.report.charts import write_charts_for

    paths = write_charts_for(Path(args.folder), lang=args.lang)
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
    if args.out and not Path(args.out).parent.is_dir():
        raise LabsimError(f"{args.out}: the folder to write the report into does not exist")
    print(write_report(Path(args.folder), lang=args.lang, out=Path(args.out) if args.out else None))
    return 0


def _analytic_range(ci: list[int | None] | None) -> str:
    """The formula's size over the reference effect's 95 % interval (no upper end if it may be 0)."""
    if not ci or ci[0] is None:
        return ""
    return f"  (for the reference effect's 95 % interval: {ci[0]:,} - {f'{ci[1]:,}' if ci[1] else 'no limit'})"


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run every point x replication of an experiment into a resumable results folder."""
    if args.scheduler and args.engine != "dask":
        raise LabsimError("--scheduler needs --engine dask")
    from labsim.sweep.sweep import run_sweep

    plan = _load_experiment(args.experiment, [], args.replications)
    exp = plan.experiment
    print(f"{exp.name}: {len(plan.points)} points x {exp.replications} replications, root seed {exp.seed}"
          f" -> {args.out}/", file=sys.stderr)
    try:
        report = run_sweep(plan, args.out, engine=args.engine, workers=args.workers,
                           scheduler=args.scheduler, resume=args.resume, progress=True)
    except KeyboardInterrupt:
        if (Path(args.out) / "manifest.json").is_file():
            print(f"labsim: interrupted; finished chunks are kept in {args.out}/: continue with "
                  f"`labsim sweep {args.experiment} --out {args.out} --resume`", file=sys.stderr)
        else:
            print("labsim: interrupted; nothing written", file=sys.stderr)
        return 130
    if report.already_finished:
        print(f"{args.out}: sweep already finished ({report.rows:,} rows); nothing to do")
        return 0
    from labsim.report.charts import write_charts_for

    write_charts_for(Path(args.out))
    print(f"{report.rows:,} runs ({report.failed:,} failed) in {report.seconds:,.1f} s; ran "
          f"{report.chunks_run} of {report.chunks_total} chunks -> {args.out}/results.parquet and charts/\n"
          f"Summary by point: labsim results {args.out}")
    return 0


def _write_atomically(path: Path, write) -> None:
    """Write a file through `write(tmp_path)` and rename it into place: never a half-written export."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def cmd_results(args: argparse.Namespace) -> int:
    """A sweep's summary table by point: print it, or export it to CSV / Excel."""
    import json

    from labsim.sweep.store import Store
    from labsim.sweep.tables import as_json, as_text, point_table

    table = point_table(Store(args.dir))
    for option, target in (("--csv", args.csv), ("--xlsx", args.xlsx)):
        if target and not Path(target).parent.is_dir():
            raise LabsimError(f"{option} {target}: no such folder {Path(target).parent}")
    if args.csv:
        _write_atomically(Path(args.csv), lambda p: table.frame.to_csv(p, index=False))
    if args.xlsx:
        _write_atomically(Path(args.xlsx), lambda p: table.frame.to_excel(
            p, index=False, sheet_name="by point", engine="openpyxl"))
    print(json.dumps(as_json(table), indent=2) if args.json else as_text(table))
    return 0


def _design_scenario(args: argparse.Namespace):
    """The scenario of `diagnose` / `size`, with `--design` applied."""
    overrides = list(args.overrides)
    if args.design:
        overrides.append(f"design.randomisation={args.design}")
    path, scenario = _load(args.scenario, overrides)
    return path, scenario, overrides


def _check_counts(**counts: int | None) -> None:
    for name, value in counts.items():
        if value is not None and value < 1:
            raise LabsimError(f"--{name.replace('_', '-')} must be a whole number 1 or more (got {value})")


def cmd_diagnose(args: argparse.Namespace) -> int:
    """Simulate the pilot many times and report its diagnosands with Monte Carlo SEs."""
    _check_counts(sims=args.sims, workers=args.workers, horizon=args.horizon)
    path, scenario, overrides = _design_scenario(args)
    out = Path(args.out) if args.out else Path("runs") / f"{path.stem}-diagnose"
    from labsim.results.output import check_out_dir

    check_out_dir(out, args.force)
    from labsim.design.diagnose import diagnose

    answer, rows = diagnose(scenario, sims=args.sims, horizon=args.horizon, alpha=args.alpha, seed=args.seed,
                            workers=args.workers, progress=not args.json)
    return _write_answer(args, "diagnosis", answer, rows, scenario, path, overrides, out, diagnosis_table)


def cmd_size(args: argparse.Namespace) -> int:
    """Find the smallest pilot that reaches the target power, with its interval and the analytic size."""
    _check_counts(workers=args.workers, horizon=args.horizon, batch=args.batch, budget=args.budget,
                  max_size=args.max_size)
    path, scenario, overrides = _design_scenario(args)
    out = Path(args.out) if args.out else Path("runs") / f"{path.stem}-size"
    from labsim.design.size import SizeSearch

    search = SizeSearch(by=args.by, power=args.power, alpha=args.alpha, horizon=args.horizon, batch=args.batch,
                        budget=args.budget, max_size=args.max_size, seed=args.seed, workers=args.workers)
    search.check()
    from labsim.results.output import check_out_dir

    check_out_dir(out, args.force)
    from labsim.design.size import search_size

    answer, rows = search_size(scenario, search, progress=not args.json)
    from labsim.design.rollout import add_to_size
    from labsim.design.worlds import size_of

    add_to_size(answer, rows, scenario, by=args.by, base=size_of(scenario, args.by), estimand=args.estimand, power=args.power,
                alpha=args.alpha, horizon=args.horizon, seed=args.seed, workers=args.workers, progress=not args.json)
    return _write_answer(args, "size", answer, rows, scenario, path, overrides, out, size_table)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Rank the assumptions by how much they move the power at the planned size over their ranges."""
    _check_counts(workers=args.workers, horizon=args.horizon, at_size=args.at_size)
    path, scenario, overrides = _design_scenario(args)
    out = Path(args.out) if args.out else Path("runs") / f"{path.stem}-sensitivity"
    from labsim.design.sensitivity import Sensitivity, analyse, ranges_of

    s = Sensitivity(method=args.method, by=args.by, at_size=args.at_size, trajectories=args.trajectories,
                    sims=args.sims, horizon=args.horizon, alpha=args.alpha, seed=args.seed, workers=args.workers,
                    progress=not args.json)
    s.check()
    ranges = ranges_of(scenario, [p for item in args.params for p in item.split(",") if p.strip()])
    from labsim.results.output import check_out_dir

    check_out_dir(out, args.force)
    answer = analyse(scenario, ranges, s).as_dict()
    from labsim.design.output import as_json, write_sensitivity_folder
    from labsim.report.charts import write_charts_for

    write_sensitivity_folder(out, answer, scenario, source=str(path), seed=args.seed, overrides=overrides,
                             force=args.force, also=write_charts_for)
    print(json.dumps(as_json(answer), indent=2) if args.json else sensitivity_table(as_json(answer), out))
    return 0


def sensitivity_table(a: dict[str, Any], out: Path) -> str:
    """The ranking as a planner reads it."""
    head = (f"{a['scenario']}: which assumption moves the power most at {a['by']} = {a['at_size']:,} "
            f"({'Morris elementary effects' if a['method'] == 'morris' else 'one at a time'}, {a['sims']} pilots per point)")
    lines = [head]
    for p in a["parameters"]:
        span = f"{p['low']:g} - {p['high']:g} (scenario {p['central']:g})"
        if a["method"] == "morris":
            lines.append(f"  {p['path']:<32} mu* {p['mu_star']:.3f} +- {p['mu_star_conf']:.3f}  sigma {p['sigma']:.3f}  over {span}")
        else:
            lines.append(f"  {p['path']:<32} power {p['power_low']:.0%} at low, {p['power_high']:.0%} at high  over {span}")
    if a.get("central_power") is not None:
        lines.append(f"  Power at the scenario's values: {a['central_power']:.0%}")
    lines.append(f"{a['sims_total']} simulated pilots in {a['seconds']} s. Written to {out}/")
    return "\n".join(lines)


def _write_answer(args, name, answer, rows, scenario, path, overrides, out, table) -> int:
    """Write a diagnose/size folder (answer, replications, manifest, charts) and print the answer."""
    from labsim.design.output import as_json, write_design_folder
    from labsim.report.charts import write_charts_for

    answer["scenario"] = scenario.name
    write_design_folder(out, name, answer, rows, scenario, source=str(path), seed=args.seed,
                        overrides=overrides, force=args.force, also=write_charts_for)
    print(json.dumps(as_json(answer), indent=2) if args.json else table(as_json(answer), out))
    return 0


def _pm(value, se, fmt="{:.1%}") -> str:
    if value is None:
        return "-"
    return fmt.format(value) + ("" if se is None else " +- " + fmt.replace("+", "").format(se))


def diagnosis_table(d: dict[str, Any], out: Path) -> str:
    """The diagnosis as a planner reads it."""
    pp = "{:+.2%}"
    rows = [
        ("Power", _pm(d["power"], d["power_se"])),
        ("Mean estimate (ITT)", _pm(d["mean_estimate"], d["mean_estimate_se"], pp)),
        ("Pilot's own effect (vs no pilot)", _pm(d["pilot_effect"], d["pilot_effect_se"], pp)),
        ("Roll-out effect", _pm(d["rollout_effect"], d["rollout_effect_se"], pp)),
        ("Bias vs roll-out", _pm(d["bias_vs_rollout"], d["bias_vs_rollout_se"], pp)),
        ("RMSE vs roll-out", _pm(d["rmse"], d["rmse_se"], "{:.2%}")),
        ("Coverage of 95 % intervals", _pm(d["coverage"], d["coverage_se"])),
        ("Type-S rate (significant, wrong sign)", _pm(d["type_s"], d["type_s_se"])),
        ("Exaggeration ratio (significant)", _pm(d["exaggeration"], d["exaggeration_se"], "{:.2f}")),
        ("Participants (target {:,})".format(d["target"] or 0), _pm(d["participants_mean"], d["participants_mean_se"], "{:,.0f}")),
        ("Providers viable", _pm(d["providers_viable"], d["providers_viable_se"])),
        ("Cost per extra job", _pm(d["cost_per_extra_job"], d["cost_per_extra_job_se"], "{:,.0f} EUR")),
    ]
    head = (f"{d.get('scenario', '')}: {d['sims']} simulated pilots ({d['counterfactual_sims']} with no-pilot "
            f"and roll-out worlds), design {d['design']}, employment {d['horizon_weeks']} weeks after assignment")
    rows += _overstatement_rows(d)
    width = max(len(k) for k, _ in rows)
    return "\n".join([head, *(f"  {k:<{width}}  {v}" for k, v in rows), *_overstatement_words(d), f"Written to {out}/"])


def _overstatement_rows(a: dict[str, Any]) -> list[tuple[str, str]]:
    """The expected overstatement ITT / roll-out (and, for --estimand rollout, the size to detect it)."""
    o = a.get("overstatement")
    if not o or o["ratio"] is None:
        return []
    lo, hi = o["ratio_ci"]
    within = f"95 % interval {lo:.2f} - {hi:.2f}" if lo is not None else "interval unbounded: roll-out effect not distinguishable from 0"
    rows = [("Overstatement (ITT / roll-out)", f"{o['ratio']:.2f}  ({within}; ITT {o['itt']:+.2%}, roll-out "
                                                f"{o['rollout']:+.2%}, {o['worlds']} worlds)")]
    r = a.get("rollout_size")
    if r:
        ci = r["size_ci"]
        ends = [f"{x:,}" if x else "no end" for x in ci]
        span = f"  (95 % interval {ends[0]} - {ends[1]})"
        rows.append(("Size to detect the roll-out effect", (f"{r['size']:,}" + span) if r["size"] else "none (no roll-out effect to detect)"))
    return rows


def _overstatement_words(a: dict[str, Any]) -> list[str]:
    from labsim.design.rollout import overstatement_sentence

    said = overstatement_sentence(a["overstatement"]) if a.get("overstatement") else None
    return [f"Note: {said}."] if said else []


def size_table(a: dict[str, Any], out: Path) -> str:
    """The size answer as a planner reads it."""
    head = (f"{a.get('scenario', '')}: smallest pilot ({a['by']}) for power {a['target_power']:.0%} at alpha "
            f"{a['alpha']}, design {a['design']}, {a['referral_mode']} referral")
    rows: list[tuple[str, str]] = []
    ci = a["minimum_size_ci"]
    if a["minimum_size"] is None:
        rows.append(("Minimum size (simulated)", f"not found: {a['message']}"))
    elif ci and ci[1] is not None:
        rows.append(("Minimum size (simulated)", f"{a['minimum_size']:,}  (95 % interval {ci[0]:,} - {ci[1]:,})"))
    else:
        rows.append(("Minimum size (simulated)", f"{a['minimum_size']:,}"))
    rows.append((f"Analytic size (2 proportions{', DEFF' if a['design'] == 'office' else ''})",
                 (f"{a['analytic_size']:,}" if a["analytic_size"] else "none (no positive effect to detect)")
                 + _analytic_range(a.get("analytic_size_ci"))))
    if a["eligible_needed"]:
        rows.append(("Eligible job seekers to randomise", f"{a['eligible_needed']:,}"))
    if a["intake_weeks_needed"]:
        rows.append(("Intake weeks needed", f"{a['intake_weeks_needed']:,}"))
    if a["break_even_clients"]:
        rows.append(("Providers' break-even", f"{a['break_even_clients']:,.0f} clients each"))
    if a["type_i_error"]:
        t = a["type_i_error"]
        within = f"95 % interval {t['ci'][0]:.1%} - {t['ci'][1]:.1%}, " if t.get("ci") else ""
        rows.append(("Type-I error (no effect)", f"{t['rate']:.1%} ({within}{t['sims']} pilots)"))
    if a["status"] == "budget":
        rows.append(("Note", a["message"]))
    rows.append(("Power by size", ", ".join(f"{p['size']:,}: {p['power']:.0%}" for p in a["power_curve"])))
    rows += _overstatement_rows(a)
    width = max(len(k) for k, _ in rows)
    return "\n".join([head, *(f"  {k:<{width}}  {v}" for k, v in rows), *_overstatement_words(a),
                      f"{a['sims_total']} simulated pilots in {a['seconds']} s. Written to {out}/"])


# -- the readable summary -----------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _pp(x: float | None, sign: bool = False) -> str:
    return "-" if x is None else f"{x * 100:{'+' if sign else ''}.1f} pp"


def headline(summary: dict[str, Any], path: Path, seed: int, out: Path) -> str:
    """The run's headline figures as a small table: volume, take-up, employment effects by horizon."""
    p = summary["participants"]
    when = (
        f"reached in week {p['week_target_reached']}" if p["week_target_reached"] is not None
        else "target not reached"
    )
    lines = [
        f"{summary['scenario']} ({path}), seed {seed}, {summary['weeks']} weeks; "
        f"{summary['referral_mode']} referral",
        f"Participants reached  {p['reached']:,} of target {p['target']:,} "
        f"({p['share_of_target']:.0%}); {when}",
        f"Take-up (pilot arm)   {_pct(summary['take_up_rate'])}",
        f"Assigned              {summary['assigned']['pilot']:,} pilot, "
        f"{summary['assigned']['control']:,} control",
        "",
        f"{'Employed after assignment':<29} {'pilot':>7} {'control':>9} {'difference':>12}"
        f" {'SE':>9}   n pilot/control",
    ]
    for horizon, e in summary["employment_rate"].items():
        lines.append(
            f"  {horizon.removesuffix('w') + ' weeks':<27} {_pct(e['pilot']):>7} {_pct(e['control']):>9}"
            f" {_pp(e['difference'], sign=True):>12} {_pp(e['se']):>9}   {e['n_pilot']:,}/{e['n_control']:,}"
        )
    paid = summary.get("purchaser_paid_eur", {}).get("total")
    if paid is not None:
        per = summary.get("cost_per_participant_eur")
        lines += ["", f"Purchaser paid        {paid:,.0f} EUR"
                  + (f" ({per:,.0f} EUR per participant)" if per is not None else "")]
    lines += ["", f"Written to {out}/"]
    return "\n".join(lines)


# -- parser and entry point -----------------------------------------------------------------------------


def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="dotted.path=value",
        help="override a scenario field, e.g. --set referral.mode=mandatory (repeatable)",
    )


def _add_design_options(p: argparse.ArgumentParser, command: str, answer: str) -> None:
    """Options `diagnose` and `size` share: design, horizon, alpha, seed, workers, output."""
    p.add_argument("--design", choices=("individual", "office", "saturation", "area"), help="evaluation design")
    p.add_argument("--horizon", type=int, default=26, help="weeks after assignment employment is measured (default 26)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--seed", type=int, default=1, help="root seed (default 1)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: every core)")
    p.add_argument("--out", metavar="DIR", help=f"output folder (default runs/<name>-{command})")
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--json", action="store_true", help=f"print {answer} instead of the table")
    _add_overrides(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labsim", description="Simulate a job-placement pilot before it is launched."
    )
    parser.add_argument("--version", action="version", version=f"labsim {__version__}")
    parser.add_argument(
        "--debug", action="store_true",
        help="show the traceback of an unexpected error (may also follow the command)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("scenarios", help="list the bundled scenarios")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser("experiments", help="list the bundled experiments (for labsim sweep)")
    p.set_defaults(func=cmd_experiments)

    p = sub.add_parser("validate", help="check scenario and experiment files against their schemas")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="scenario or experiment file, or a bundled scenario's or experiment's name")
    _add_overrides(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run one scenario and write its results and charts")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--weeks", type=int, default=None, help="pilot weeks to run (default: the scenario's)")
    p.add_argument("--out", metavar="DIR", help="output folder (default runs/<name>-seed<N>)")
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--json", action="store_true", help="print summary.json instead of the table")
    p.add_argument("--no-charts", action="store_true", help="skip the charts (PNG and SVG)")
    _add_overrides(p)
    p.set_defaults(func=cmd_run)

    langs = ["en", "fi", "sv"]
    p = sub.add_parser("plot", help="redraw an output folder's charts from its saved results")
    p.add_argument("folder", metavar="DIR", help="a run, size, diagnose or sweep folder (or a folder of runs)")
    p.add_argument("--lang", choices=langs, default="en", help="language of the chart texts (default en)")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("report", help="write a self-contained HTML report of an output folder")
    p.add_argument("folder", metavar="DIR", help="a run, size, diagnose or sweep folder (or a folder of runs)")
    p.add_argument("--lang", choices=langs, default="en", help="language: en, fi (suomi) or sv (svenska)")
    p.add_argument("--out", metavar="FILE.html", help="report file (default DIR/report-<lang>.html)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("diagnose", help="simulate the pilot many times: power, bias, coverage, costs")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    p.add_argument("--sims", type=int, default=200, help="simulated pilots (default 200)")
    _add_design_options(p, "diagnose", "diagnosis.json")
    p.set_defaults(func=cmd_diagnose)

    p = sub.add_parser("size", help="find the smallest pilot that reaches the target power")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    p.add_argument("--power", type=float, default=0.8, help="target power (default 0.8)")
    p.add_argument("--by", choices=("participants", "offices", "intake-weeks"), default="participants",
                   help="the lever that sets the pilot's size (default participants)")
    p.add_argument("--batch", type=int, default=40, help="simulated pilots per size tried (default 40)")
    p.add_argument("--budget", type=int, default=400, help="most simulated pilots in the search (default 400)")
    p.add_argument("--max-size", type=int, default=None, help="largest size to try (default 20x the scenario's)")
    p.add_argument("--estimand", choices=("itt", "rollout"), default="itt",
                   help="size for the pilot's ITT (default) or for the roll-out effect (docs/evaluation.md)")
    _add_design_options(p, "size", "size.json")
    p.set_defaults(func=cmd_size)

    p = sub.add_parser("sensitivity", help="which assumptions move the power at the planned size most")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    p.add_argument("--method", choices=("morris", "oat"), default="morris",
                   help="Morris elementary effects (default) or one at a time (a tornado)")
    p.add_argument("--params", action="append", default=[], metavar="path=low:high[,...]",
                   help="ranges to vary besides (or instead of) the scenario's [[assumptions]] (repeatable)")
    p.add_argument("--by", choices=("participants", "offices", "intake-weeks"), default="participants",
                   help="the lever --at-size sets (default participants)")
    p.add_argument("--at-size", type=int, default=None, help="the planned size (default: the scenario's)")
    p.add_argument("--trajectories", type=int, default=10, help="Morris trajectories (default 10)")
    p.add_argument("--sims", type=int, default=20, help="simulated pilots per point, the same worlds at every point (default 20)")
    _add_design_options(p, "sensitivity", "sensitivity.json")
    p.set_defaults(func=cmd_sensitivity)

    p = sub.add_parser("sweep", help="run an experiment: every point x replication, resumable")
    p.add_argument("experiment", metavar="EXPERIMENT", help="experiment file or bundled experiment name")
    p.add_argument("--out", metavar="DIR", required=True, help="results folder (new, or with --resume)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes (default: every core; 1 runs in this process)")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local processes (default) or a Dask cluster")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://10.0.0.1:8786 (default: a local Dask cluster)")
    p.add_argument("--resume", action="store_true", help="continue the sweep in DIR where it stopped")
    p.add_argument("--replications", type=int, default=None, metavar="N",
                   help="replications per point instead of the file's (a quick first look)")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("results", help="a sweep's summary by point (means and intervals)")
    p.add_argument("dir", metavar="DIR", help="the sweep's results folder")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    p.add_argument("--xlsx", metavar="FILE", help="also write the table as an Excel workbook")
    p.set_defaults(func=cmd_results)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds like Ctrl-C (temporary output removed)."""


@contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """While a command runs, SIGTERM raises `Terminated` (only the main thread can handle signals)."""
    def stop(signum, frame):
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `labsim` console script; returns the exit code (see the module's docstring).

    Every subcommand gets the same handling, so a new one only has to raise `LabsimError` for bad
    input and write its folders with `labsim.results.output.staged_dir` / `claim_out_dir`.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # anywhere on the line, before or after the command
    argv = [a for a in argv if a != "--debug"]
    args = build_parser().parse_args(argv)
    command = args.command
    try:
        with _sigterm_as_exception():
            return args.func(args)
    except LabsimError as err:
        print(f"labsim: error: {' '.join(str(err).split())}", file=sys.stderr)
        return EXIT_INPUT
    except Terminated:
        print(f"labsim: '{command}' stopped by SIGTERM; no half-written output is left", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print(f"labsim: '{command}' interrupted; no half-written output is left", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        if debug:
            traceback.print_exc()
        print(
            f"labsim: error: '{command}' ran out of memory; use a smaller world or fewer weeks "
            "(see 'Limits' in docs/model.md)", file=sys.stderr,
        )
        return EXIT_FAILED
    except OSError as err:  # e.g. no permission or no space in the output folder
        if debug:
            traceback.print_exc()
        print(f"labsim: error: {' '.join(str(err).split())}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as err:
        if debug:
            traceback.print_exc()
        hint = "" if debug else " (rerun with --debug to see the traceback)"
        print(
            f"labsim: internal error in '{command}': {_one_line(err)}; please report this{hint}",
            file=sys.stderr,
        )
        return EXIT_FAILED
