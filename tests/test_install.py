"""labsim installed as a wheel, away from the checkout, finds its bundled scenarios and runs them.

The wheel is built from a copy of the files a release would be built from (so the checkout gets no
`build/` folder) and installed without its dependencies into a fresh venv, which borrows them from the
test's own environment through a path file: a few seconds, and no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs the git checkout"
)


def _run(*argv: str | Path, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},  # nothing points back to the checkout
    )
    assert proc.returncode == 0, (argv, proc.stdout, proc.stderr)
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """A fresh venv with the labsim wheel in it, and an empty folder outside the checkout to run in."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "pyproject.toml", "README.md", "src", "scenarios", "experiments"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for name in filter(None, tracked):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():
            target.symlink_to((ROOT / name).readlink())
        else:
            shutil.copy2(ROOT / name, target)
    wheels = base / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", wheels, source, cwd=base)
    env = base / "venv"
    venv.create(env, with_pip=False)
    purelib = Path(sysconfig.get_paths(vars={"base": str(env), "platbase": str(env)})["purelib"])
    # the dependencies come from this environment; a path line does not run its .pth files, so the
    # checkout's editable labsim stays out of sight
    (purelib / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (wheel,) = wheels.glob("labsim-*.whl")
    _run(sys.executable, "-m", "pip", "--python", env / "bin" / "python", "install", "--no-deps",
         "-q", wheel, cwd=base)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return env, elsewhere


def test_the_wheel_ships_every_bundled_scenario(installed):
    env, elsewhere = installed
    proc = _run(env / "bin" / "labsim", "scenarios", cwd=elsewhere)
    listed = {line.split()[0] for line in proc.stdout.splitlines()}
    assert listed == {p.stem for p in (ROOT / "scenarios").glob("*.toml")}
    where = _run(env / "bin" / "python", "-c", "import labsim; print(labsim.__file__)", cwd=elsewhere)
    assert Path(where.stdout.strip()).is_relative_to(env), "labsim was imported from the checkout"


def test_the_wheel_ships_every_bundled_experiment_with_its_base_scenario(installed):
    env, elsewhere = installed
    proc = _run(env / "bin" / "labsim", "experiments", cwd=elsewhere)
    names = {p.stem for p in (ROOT / "experiments").glob("*.toml")}
    assert {line.split()[0] for line in proc.stdout.splitlines()} == names
    proc = _run(env / "bin" / "labsim", "validate", *sorted(names), cwd=elsewhere)  # base scenarios resolve
    assert proc.stdout.splitlines() == [f"ok: {name}" for name in sorted(names)]


def test_the_installed_command_runs_a_bundled_scenario(installed):
    env, elsewhere = installed
    _run(env / "bin" / "labsim", "run", "baseline", "--weeks", "2", "--no-charts",
         "--set", "area.job_seekers=2000", "--set", "area.burn_in_weeks=2", "--out", "r", cwd=elsewhere)
    assert (elsewhere / "r" / "summary.json").is_file()


def test_the_version_is_the_one_in_pyproject(installed):
    env, elsewhere = installed
    with (ROOT / "pyproject.toml").open("rb") as fh:
        version = tomllib.load(fh)["project"]["version"]
    assert _run(env / "bin" / "labsim", "--version", cwd=elsewhere).stdout.split() == ["labsim", version]
