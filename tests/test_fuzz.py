"""Fuzz: random values for every flag of every command; mutated scenario, experiment and targets files;
damaged output folders given to report, plot and results; damaged calibration folders resumed.

Whatever comes in, a command answers (exit 0) or refuses on one line (exit 2): never exit 1, never a
traceback, never a folder or lock left behind by a refusal. The values come from a seeded generator
(reproducible: a failure names its seed and arguments). The fast suite throws a sample; the slow one
the full count (>= 200 values per flag, >= 200 files of each kind, 200 odd folders, 40 damaged
calibrations). `labsim app` is fuzzed up to its start-up checks (scenario, host, port); the server
itself is a stand-in.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import string
from pathlib import Path

import pytest

from labsim.cli import main
from labsim.config.experiment import load_experiment
from labsim.sweep.sweep import run_sweep

TINY_SCENARIO = """name = "tiny"
weeks = 14
[area]
job_seekers = 300
burn_in_weeks = 0
[referral]
mode = "mandatory"
target_participants = 40
"""
TINY_EXPERIMENT = """scenario = "tiny.toml"
replications = 1
chunk = 1
seed = 3
[levers.grid]
"referral.mode" = ["voluntary", "mandatory"]
[uncertainties]
samples = 2
[uncertainties.ranges]
"market.matching_efficiency" = [0.03, 0.08]
"""
FAST, FULL = 4, 200  # values per flag
FAST_FILES, FULL_FILES = 30, 200  # mutated files of each kind
FAST_ODD, FULL_ODD = 16, 200  # damaged output folders
FAST_CAL, FULL_CAL = 3, 40  # damaged calibration folders resumed
TARGETS = """[[targets]]
name = "outflow"
moment = "monthly_outflow"
figure = 0.16
range = [0.15, 0.17]
source = "a study"
set = ["referral.mode=mandatory"]
"""
CALIBRATE = ["calibrate", "tiny.toml", "--targets", "targets.toml", "--params", "market.matching_efficiency=0.01:0.03",
             "--budget", "2", "--replications", "2", "--workers", "1"]

# kinds of value: what a flag expects decides which specials are worth throwing
NUMBERS = ["0", "1", "-1", "2", "5", "13", "26", "52", "0.5", "1e3", "nan", "inf", "-inf", "1e400",
           str(2**63), str(2**63 - 1), str(-(2**63)), "9" * 5000, "0x10", "1_000", " 7 ", "٣", "", " ", "--", "true"]
PATHS = ["", " ", "/", "//", ".", "./", "..", "existing", "existing/", "tiny.toml", "run", "sweep"]
WORDS = ["en", "fi", "sv", "individual", "office", "saturation", "area", "participants", "offices",
         "intake-weeks", "local", "dask", "baseline", "tiny.toml", "exp.toml", "run", "sweep", "nosuch"]
SET_KEYS = ["weeks", "area.job_seekers", "area.burn_in_weeks", "referral.mode", "referral.target_participants",
            "design.treatment_share", "market.matching_efficiency", "payment.preset", "nosuch", "area", "", "a..b"]

#: command -> (arguments every call has, {flag: kind}); "" is the positional argument. Every call writes
#: to the existing folder `existing` unless --out itself is fuzzed, so a value that passes every check is
#: refused at the end ("already exists") instead of starting a long job.
COMMANDS: dict[str, tuple[list[str], dict[str, str]]] = {
    "scenarios": ([], {"": "word"}),
    "experiments": ([], {"": "word"}),
    "validate": (["tiny.toml"], {"": "path", "--set": "set"}),
    "run": (["tiny.toml", "--no-charts"],
            {"": "path", "--seed": "number", "--weeks": "number", "--out": "path", "--set": "set"}),
    "plot": (["run"], {"": "path", "--lang": "word"}),
    "report": (["run"], {"": "path", "--lang": "word", "--out": "path"}),
    "diagnose": (["tiny.toml", "--sims", "1", "--workers", "1", "--horizon", "13"],
                 {"": "path", "--sims": "number", "--design": "word", "--horizon": "number", "--alpha": "number",
                  "--seed": "number", "--workers": "number", "--out": "path", "--set": "set"}),
    "size": (["tiny.toml", "--batch", "5", "--budget", "15", "--workers", "1", "--horizon", "13"],
             {"": "path", "--power": "number", "--by": "word", "--batch": "number", "--budget": "number",
              "--max-size": "number", "--design": "word", "--horizon": "number", "--alpha": "number",
              "--seed": "number", "--workers": "number", "--out": "path", "--set": "set",
              "--precision": "number", "--assurance": "number", "--vary": "set"}),
    "sweep": (["exp.toml", "--workers", "1"],
              {"": "path", "--out": "path", "--workers": "number", "--engine": "word", "--scheduler": "word",
               "--replications": "number"}),
    "results": (["sweep"], {"": "path", "--csv": "path", "--xlsx": "path", "--lang": "word"}),
    "calibrate": (["tiny.toml", "--targets", "finland_labour_market", "--params", "market.matching_efficiency=0.01:0.03",
                   "--budget", "2", "--replications", "2", "--workers", "1"],
                  {"": "path", "--targets": "path", "--params": "set", "--budget": "number", "--replications": "number",
                   "--seed": "number", "--workers": "number", "--engine": "word", "--scheduler": "word",
                   "--out": "path", "--set": "set"}),
    "sensitivity": (["tiny.toml", "--params", "market.matching_efficiency=0.01:0.03", "--trajectories", "2",
                     "--sims", "2", "--max-sims", "2", "--workers", "1", "--horizon", "13"],
                    {"": "path", "--method": "word", "--params": "set", "--by": "word", "--at-size": "number",
                     "--trajectories": "number", "--sims": "number", "--max-sims": "number", "--design": "word", "--horizon": "number",
                     "--alpha": "number", "--seed": "number", "--workers": "number", "--out": "path", "--set": "set"}),
    # the claims' simulation and the server are replaced by stand-ins (`stand_ins`): here only the flags count
    "validation": (["--scenario", "tiny.toml", "--replications", "2", "--workers", "1"],
                   {"--scenario": "path", "--out": "path", "--lang": "word", "--markdown": "path",
                    "--replications": "number", "--seed": "number", "--workers": "number"}),
    "app": (["--scenario", "tiny.toml"], {"--scenario": "path", "--port": "number", "--host": "word", "--lang": "word"}),
}
#: Commands that write a folder: `--out existing` unless --out is fuzzed.
WRITERS = {"run", "diagnose", "size", "sweep", "calibrate", "sensitivity"}
#: Flags whose valid values start real work (kept small by the arguments above): fewer values.
WORKS = {(command, "--out") for command in WRITERS}


def _text(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + string.punctuation + " éä€\t"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def value(kind: str, rng: random.Random) -> str:
    """A random value of a kind: a special worth trying, a random number, or random text."""
    roll = rng.random()
    if kind == "number":
        if roll < 0.5:
            return rng.choice(NUMBERS)
        if roll < 0.8:
            return str(rng.choice([rng.randint(-10**6, 10**6), rng.randint(-2**70, 2**70), rng.uniform(-2, 2)]))
        return _text(rng)
    if kind == "path":
        if roll < 0.5:
            return rng.choice(PATHS)
        name = re.sub(r"[^\w.é-]", "", _text(rng)).lstrip(".") or "x"  # relative, below the test's folder
        return name + (f"/{name}" if roll > 0.9 else "")
    if kind == "word":
        return rng.choice(WORDS) if roll < 0.6 else _text(rng)
    if kind == "set":
        key = rng.choice(SET_KEYS)
        return f"{key}={value('number', rng) if roll < 0.6 else _text(rng)}" if roll < 0.95 else _text(rng)
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A folder with a tiny scenario, an experiment on it, a run and a sweep folder, and `existing`."""
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "tiny.toml").write_text(TINY_SCENARIO, encoding="utf-8")
    (folder / "exp.toml").write_text(TINY_EXPERIMENT, encoding="utf-8")
    (folder / "targets.toml").write_text(TARGETS, encoding="utf-8")
    (folder / "existing").mkdir()
    assert main(["run", str(folder / "tiny.toml"), "--out", str(folder / "run"), "--no-charts"]) == 0
    run_sweep(load_experiment(folder / "exp.toml"), folder / "sweep", workers=1)  # no charts: quicker
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        assert main([*CALIBRATE, "--out", "cal", "--json"]) == 0
    finally:
        os.chdir(cwd)
    return folder


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if re.search(r"\.(tmp|old)-\d+|\.lock$", p.name))


def throw(world: Path, argv: list[str], capsys) -> int:
    """Run `labsim argv` in `world`: exit 0 or 2, no traceback, one line on a refusal, nothing left
    behind by a refusal. Returns the exit code."""
    before = sorted(p.name for p in world.iterdir())
    try:
        code = main(argv)
    except SystemExit as stop:  # --help and --version
        code = stop.code or 0
    err = capsys.readouterr().err
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err and "internal error" not in err, (argv, err)
    assert leftovers(world) == [], (argv, leftovers(world))
    after = sorted(p.name for p in world.iterdir())
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("labsim: error: "), (argv, err)
        assert after == before, (argv, set(after) ^ set(before))
    for new in set(after) - set(before):  # a run or export that a valid value made: out of the way
        shutil.rmtree(world / new) if (world / new).is_dir() else (world / new).unlink()
    return code


def flag_cases(per_flag: int) -> list[tuple[str, str, int]]:
    return [(command, flag, i) for command, (_, flags) in COMMANDS.items() for flag in flags
            for i in range(per_flag if (command, flag) not in WORKS else max(2, per_flag // 10))]


def _argv(command: str, flag: str, seed: int) -> list[str]:
    rng = random.Random(f"{command} {flag} {seed}")
    base, flags = COMMANDS[command]
    v = value(flags[flag], rng)
    argv = [command, v, *base[1:]] if flag == "" else [command, *base]
    if command in WRITERS and flag != "--out":
        argv += ["--out", "existing"]
    return argv + ([f"{flag}={v}"] if flag else [])  # --flag=value: a value may start with "-"


def stand_ins(monkeypatch) -> None:
    """`labsim validation` without simulating its claims and `labsim app` without serving: what is
    fuzzed is their flags, and a valid set must not start minutes of work or a server that never ends."""
    from labsim.design.validation import Validation

    monkeypatch.setattr("labsim.design.validation.validate",
                        lambda *args, replications, seed, **kwargs: Validation("tiny", replications, seed, "", ()))
    monkeypatch.setattr("labsim.app.server.run_server", lambda *args, **kwargs: 0)


def _check_flags(world, capsys, monkeypatch, per_flag: int) -> None:
    monkeypatch.chdir(world)
    stand_ins(monkeypatch)
    codes = {0: 0, 2: 0}
    for command, flag, seed in flag_cases(per_flag):
        codes[throw(world, _argv(command, flag, seed), capsys)] += 1
    assert codes[2] > 0 and codes[0] > 0  # both answers happen: the values are not all refused


def test_fuzz_every_flag_sample(world, capsys, monkeypatch):
    _check_flags(world, capsys, monkeypatch, FAST)


@pytest.mark.slow
def test_fuzz_every_flag_full(world, capsys, monkeypatch):
    _check_flags(world, capsys, monkeypatch, FULL)


def mutate(text: str, rng: random.Random) -> str:
    """The file's text with one to three random edits: a line dropped or doubled, a value replaced by
    a random one, characters inserted, the file cut short, or deep nesting."""
    for _ in range(rng.randint(1, 3)):
        lines = text.splitlines()
        roll = rng.random()
        i = rng.randrange(len(lines)) if lines else 0
        if roll < 0.2 and lines:
            del lines[i]
        elif roll < 0.3 and lines:
            lines.insert(i, lines[i])
        elif roll < 0.7 and lines and "=" in lines[i]:
            key = lines[i].split("=")[0]
            new = rng.choice([value("number", rng), f'"{_text(rng)}"', "[]", "{}", "true", "[1, [2]]",
                              "[" * 40 + "]" * 40, "{ a = 1 }", f'["{_text(rng)}"]'])
            lines[i] = f"{key}= {new}"
        elif roll < 0.8:
            lines.insert(i, _text(rng))
        elif roll < 0.9:
            return text[: rng.randrange(len(text) + 1)]
        else:
            lines.insert(i, rng.choice(["[levers.grid]", "[nosuch]", "x = " + "[" * 3000 + "]" * 3000,
                                        f'"area.job_seekers" = {list(range(rng.randint(1, 500)))}']))
        text = "\n".join(lines) + "\n"
    return text


def _check_files(world, capsys, monkeypatch, count: int) -> None:
    monkeypatch.chdir(world)
    codes = {0: 0, 2: 0}
    for i in range(count):
        rng = random.Random(f"file {i}")
        (world / "mutant.toml").write_text(mutate(TINY_SCENARIO, rng), encoding="utf-8")
        codes[throw(world, ["validate", "mutant.toml"], capsys)] += 1
        (world / "mutant_exp.toml").write_text(mutate(TINY_EXPERIMENT, rng), encoding="utf-8")
        codes[throw(world, ["validate", "mutant_exp.toml"], capsys)] += 1
    (world / "mutant.toml").unlink()
    (world / "mutant_exp.toml").unlink()
    assert codes[2] > 0 and codes[0] > 0


def test_fuzz_scenario_and_experiment_files_sample(world, capsys, monkeypatch):
    _check_files(world, capsys, monkeypatch, FAST_FILES)


@pytest.mark.slow
def test_fuzz_scenario_and_experiment_files_full(world, capsys, monkeypatch):
    _check_files(world, capsys, monkeypatch, FULL_FILES)



def _check_targets(world, capsys, monkeypatch, count: int) -> None:
    """Mutated targets files: `validate` answers, and `calibrate` refuses them (or the existing folder)
    on one line before its header."""
    monkeypatch.chdir(world)
    codes = {0: 0, 2: 0}
    for i in range(count):
        rng = random.Random(f"targets {i}")
        (world / "mutant_targets.toml").write_text(mutate(TARGETS, rng), encoding="utf-8")
        codes[throw(world, ["validate", "mutant_targets.toml"], capsys)] += 1
        argv = [*CALIBRATE, "--out", "existing"]
        argv[argv.index("targets.toml")] = "mutant_targets.toml"
        assert throw(world, argv, capsys) == 2
    (world / "mutant_targets.toml").unlink()
    assert codes[2] > 0 and codes[0] > 0


def test_fuzz_targets_files_sample(world, capsys, monkeypatch):
    _check_targets(world, capsys, monkeypatch, FAST_FILES // 3)


@pytest.mark.slow
def test_fuzz_targets_files_full(world, capsys, monkeypatch):
    _check_targets(world, capsys, monkeypatch, FULL_FILES)


def damage(folder: Path, rng: random.Random) -> str:
    """One to three random harms to files of `folder`: cut short, emptied, garbage, deleted, a JSON
    value replaced, or copied over from a file of another kind. Returns what was done."""
    done = []
    for _ in range(rng.randint(1, 3)):
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        if not files:
            break
        path = rng.choice(files)
        how = rng.choice(["cut", "empty", "garbage", "delete", "json", "swap"])
        data = path.read_bytes()
        if how == "cut":
            path.write_bytes(data[: rng.randrange(len(data) + 1)])
        elif how == "empty":
            path.write_bytes(b"")
        elif how == "garbage":
            path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))))
        elif how == "delete":
            path.unlink()
        elif how == "json":
            text = data.decode("utf-8", "replace")
            i = rng.randrange(len(text) + 1)
            path.write_text(text[:i] + rng.choice(["null", "[]", "{}", '"x"', "-1e400", "NaN", "0"]) + text[i:])
        else:
            path.write_bytes(rng.choice(files).read_bytes())
        done.append(f"{how} {path.relative_to(folder)}")
    return "; ".join(done)


def _check_odd_folders(world, capsys, monkeypatch, count: int) -> None:
    """`report`, `plot` and `results` on damaged copies of a run, a sweep and a calibration: each
    answers or refuses on one line, never exit 1 or a traceback."""
    monkeypatch.chdir(world)
    codes = {0: 0, 2: 0}
    for i in range(count):
        rng = random.Random(f"odd {i}")
        odd = world / "odd"
        shutil.copytree(world / rng.choice(["run", "sweep", "cal"]), odd)
        harm = damage(odd, rng)
        try:
            for command in ("report", "plot", "results"):
                codes[throw(world, [command, "odd"], capsys)] += 1
        except AssertionError as err:
            raise AssertionError(f"odd folder {i} ({harm}): {err}") from None
        finally:
            shutil.rmtree(odd)
    assert codes[2] > 0 and codes[0] > 0


def test_fuzz_odd_folders_sample(world, capsys, monkeypatch):
    _check_odd_folders(world, capsys, monkeypatch, FAST_ODD)


@pytest.mark.slow
def test_fuzz_odd_folders_full(world, capsys, monkeypatch):
    _check_odd_folders(world, capsys, monkeypatch, FULL_ODD)


def _check_calibrations(world, capsys, monkeypatch, count: int) -> None:
    """A damaged calibration folder resumed: repaired (exit 0) or refused on one line (exit 2)."""
    monkeypatch.chdir(world)
    codes = {0: 0, 2: 0}
    for i in range(count):
        rng = random.Random(f"calibration {i}")
        shutil.copytree(world / "cal", world / "odd")
        harm = damage(world / "odd", rng)
        try:
            codes[throw(world, [*CALIBRATE, "--out", "odd", "--resume", "--json"], capsys)] += 1
        except AssertionError as err:
            raise AssertionError(f"calibration {i} ({harm}): {err}") from None
        finally:
            shutil.rmtree(world / "odd")
    assert sum(codes.values()) == count


def test_fuzz_damaged_calibration_resumed_sample(world, capsys, monkeypatch):
    _check_calibrations(world, capsys, monkeypatch, FAST_CAL)


@pytest.mark.slow
def test_fuzz_damaged_calibration_resumed_full(world, capsys, monkeypatch):
    _check_calibrations(world, capsys, monkeypatch, FULL_CAL)
