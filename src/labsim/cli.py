"""The `labsim` command: list, validate and run scenarios.

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
    env = os.environ.get("LABSIM_SCENARIOS")
    if env:
        return Path(env)
    folder = resources.files("labsim") / "scenarios"
    if not isinstance(folder, Path):  # labsim is installed as files, never inside a zip
        raise LabsimError(f"bundled scenarios are not in a folder ({folder}); set LABSIM_SCENARIOS")
    return folder


def bundled() -> dict[str, Path]:
    """Bundled scenario files by name (file stem), sorted."""
    folder = scenarios_dir()
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


def _load(name: str, overrides: list[str]):
    from labsim.config.scenario import load_scenario

    path = resolve_scenario(name)
    return path, load_scenario(path, overrides)


# -- commands ---------------------------------------------------------------------------------------


def cmd_scenarios(args: argparse.Namespace) -> int:
    """One line per bundled scenario: its name and the first line of its description."""
    found = bundled()
    if not found:
        print(f"no scenarios in {scenarios_dir()}", file=sys.stderr)
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

        from labsim.report.plots import write_charts
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
            also=None if args.no_charts else (lambda folder: write_charts(result, folder / "charts")),
        )
    if args.json:
        print((out / "summary.json").read_text(encoding="utf-8"), end="")
    else:
        print(headline(result.summary, path, args.seed, out))
    return 0


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

    p = sub.add_parser("validate", help="check scenario files against the schema")
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario file or bundled scenario name")
    _add_overrides(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run one scenario and write its results and charts")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or bundled scenario name")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--weeks", type=int, default=None, help="pilot weeks to run (default: the scenario's)")
    p.add_argument("--out", metavar="DIR", help="output folder (default runs/<name>-seed<N>)")
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--json", action="store_true", help="print summary.json instead of the table")
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    _add_overrides(p)
    p.set_defaults(func=cmd_run)
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
