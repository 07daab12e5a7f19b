"""A run folder: everything one simulated pilot produced, written atomically.

`write_run` puts the weekly series, the individual outcomes, the summary, a manifest (what was run, with
which software) and any charts into a temporary sibling folder and renames it into place only when all
of it is written, so a reader (or a sweep that resumes) never sees half a run. Kept apart from the
command line so that sweeps can write the same folders.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labsim import __version__
from labsim.config.errors import LabsimError

if TYPE_CHECKING:
    from labsim.results.summary import RunResult
    from labsim.config.scenario import Scenario

#: Libraries whose versions decide the numbers and charts, recorded in every manifest.
RECORDED_PACKAGES = ("mesa", "numpy", "scipy", "pandas", "matplotlib", "pyarrow", "pydantic")


def check_out_dir(out_dir: Path, force: bool) -> None:
    """Refuse an existing output folder unless `force`, and one that could not be written (checked before
    a long run, and again at the end)."""
    if out_dir.exists() and not force:
        raise LabsimError(f"{out_dir}: output folder already exists (use --force to replace it)")
    if out_dir.exists() and not out_dir.is_dir():
        raise LabsimError(f"{out_dir}: exists and is not a folder")
    check_writable(out_dir)


def check_writable(out_dir: Path) -> None:
    """Refuse an output folder that could not be written: its nearest existing parent must be a folder
    in which a file can really be created (tried, not guessed from permission bits)."""
    parent = Path(os.path.abspath(out_dir)).parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise LabsimError(f"{out_dir}: cannot be created, {parent} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".labsim-probe-", dir=parent)
    except OSError as err:
        raise LabsimError(f"{out_dir}: cannot write in {parent} ({err.strerror or err})") from None
    os.close(fd)
    os.unlink(probe)


def named(err: OSError, path: Path | str) -> OSError:
    """`err` naming `path` if it names no file itself (a full disk while writing names none), so that
    the command line can say which file or folder failed."""
    if err.filename is not None:
        return err
    return type(err)(err.errno, err.strerror or " ".join(str(err).split()) or type(err).__name__, str(path))


def write_atomically(path: Path | str, write: Callable[[Path], object]) -> Path:
    """Write a file through `write(temporary path)`, flush it to disk and rename it into place.

    Readers see the old file or the whole new one, never half of one; on any error, Ctrl-C or SIGTERM
    the temporary sibling (`.NAME.tmp-PID.SUFFIX`, keeping the suffix for writers that go by it) is
    removed. An OSError names `path`. Every file labsim replaces in place is written through this.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as err:
        raise named(err, path) from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


_LEFTOVER = re.compile(r"^(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)$")
#: Written into every folder this module leaves beside an output folder while it works, so that only
#: those (never a planner's own `notes.old-2023`) are cleaned up after a killed run.
MARK = ".labsim-leftover"
#: Output folders this process holds the lock of (taking it again is a no-op).
_HELD: set[Path] = set()


def _marked(path: Path) -> bool:
    try:
        return path.is_dir() and (path / MARK).is_file()
    except OSError:
        return False


def clean_stale(parent: Path) -> list[Path]:
    """Remove what killed runs left in `parent` and return it: `X.tmp-PID` (an unfinished run) and
    `X.old-PID` (a replaced run; moved back to `X` if the swap stopped before the new run arrived).
    A leftover is stale when nobody holds the lock of `X` (the OS releases a dead process's lock);
    only this module's own leftovers (marked with MARK) are touched."""
    cleaned: list[Path] = []
    if not parent.is_dir():
        return cleaned
    for path in sorted(parent.iterdir()):
        match = _LEFTOVER.match(path.name)
        if not match or not _marked(path):
            continue
        target = parent / match["name"]
        try:
            with out_dir_lock(target):
                if match["kind"] == "old" and not target.exists():
                    (path / MARK).unlink()
                    path.rename(target)
                else:
                    shutil.rmtree(path)
        except (LabsimError, FileNotFoundError):
            continue  # written right now by another process, or cleaned by it first
        cleaned.append(path)
    return cleaned


def _beside(out_dir: Path, kind: str) -> Path:
    return out_dir.with_name(f"{out_dir.name}.{kind}-{os.getpid()}")


@contextmanager
def out_dir_lock(out_dir: Path) -> Iterator[None]:
    """Hold `out_dir` for this process: an OS lock (`filelock`) on `X.lock` beside it, which the OS
    releases when the process dies, even by kill -9, so no stale lock can block a later run.

    A second process is refused at once. The lock file is removed on release, while still held (a
    process that opened it meanwhile then holds a deleted file, which filelock does not count as the
    lock, so two processes never both write). Taking the lock again in the
    same process is a no-op: the command line claims the folder before simulating and `write_run`
    then writes it.
    """
    from filelock import FileLock, Timeout

    out_dir = Path(os.path.abspath(out_dir))
    if out_dir in _HELD:
        yield
        return
    path = out_dir.with_name(f"{out_dir.name}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=0, is_singleton=False)
    try:
        lock.acquire()
    except Timeout:
        raise LabsimError(f"{out_dir}: another labsim process is writing this folder; wait for it to finish "
                          "or choose another output folder") from None
    except OSError as err:
        raise named(err, path) from None
    _HELD.add(out_dir)
    try:
        yield
    finally:
        _HELD.discard(out_dir)
        path.unlink(missing_ok=True)
        lock.release()


@contextmanager
def claim_out_dir(out_dir: Path, force: bool = False) -> Iterator[Path]:
    """Claim an output folder before a long job, for the whole job: refuse it if it exists (unless
    `force`), cannot be written, or another live process writes it; remove stale leftovers of killed
    runs beside it. Any command that writes a folder should wrap its work in this."""
    out_dir = Path(out_dir)
    check_out_dir(out_dir, force)
    check_writable(out_dir)
    with out_dir_lock(out_dir):
        clean_stale(out_dir.parent)
        check_out_dir(out_dir, force)  # a stale `.old-PID` may just have been moved back
        yield out_dir


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done (a folder swap is two renames: never half):
    noted while it runs, then handed to the handlers that were in place (in the main thread only,
    where Python runs signal handlers)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda signum, frame: noted.append(signum)) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(noted):
            if callable(previous[sig]):
                previous[sig](sig, None)
            elif previous[sig] == signal.SIG_DFL:
                os.kill(os.getpid(), sig)


@contextmanager
def staged_dir(out_dir: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling folder `DIR.tmp-<pid>`; on success it becomes `out_dir`.

    On any error, Ctrl-C or SIGTERM (which the command line turns into an exception) the temporary
    folder is removed and `out_dir` is left as it was; the swap itself is not interrupted. An OSError
    (a full disk, no permission) names `out_dir`. The folder is claimed (`claim_out_dir`) for the
    time of writing unless this process has claimed it already.
    """
    out_dir = Path(out_dir)
    with claim_out_dir(out_dir, force):
        tmp = _beside(out_dir, "tmp")
        old = _beside(out_dir, "old")
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            (tmp / MARK).touch()
            yield tmp
            check_out_dir(out_dir, force)
            with _signals_held():
                (tmp / MARK).unlink()
                if out_dir.exists():  # replace: move the old run aside first, so the swap is two renames
                    (out_dir / MARK).touch()
                    out_dir.rename(old)
                    tmp.rename(out_dir)
                    shutil.rmtree(old)
                else:
                    tmp.rename(out_dir)
        except BaseException as err:
            shutil.rmtree(tmp, ignore_errors=True)
            if old.is_dir() and not out_dir.exists():  # stopped mid-swap: put the old run back
                old.rename(out_dir)
            if out_dir.is_dir():  # the old run's marker (a new run never has one)
                (out_dir / MARK).unlink(missing_ok=True)
            if isinstance(err, OSError):
                raise named(OSError(err.errno, err.strerror or str(err)), out_dir) from None
            raise


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str | None]:
    """Installed versions of these packages (None if one is missing)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def manifest(
    scenario: Scenario, source: str, seed: int, weeks: int, overrides: list[str]
) -> dict[str, Any]:
    """What was run and with which software, so that a run folder can be reproduced and audited."""
    from labsim.config.scenario import scenario_to_dict

    return {
        "labsim_version": __version__,
        "source": source,
        "seed": seed,
        "weeks": weeks,
        "overrides": list(overrides),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "scenario": scenario_to_dict(scenario),
    }


def _json_default(value: Any) -> Any:
    """numpy scalars (which `json` cannot write) as plain Python numbers."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _finite(data: Any) -> Any:
    """`data` with NaN and infinities as None: JSON has no such numbers (Python would write `NaN`)."""
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    if hasattr(data, "item") and not hasattr(data, "__len__"):  # a numpy scalar
        data = data.item()
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def write_json(path: Path, data: Any) -> None:
    """Pretty, valid JSON (NaN and infinities written as null), UTF-8, numpy scalars allowed."""
    text = json.dumps(_finite(data), indent=2, default=_json_default, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def write_run(
    result: RunResult,
    scenario: Scenario,
    *,
    source: str,
    seed: int,
    weeks: int,
    overrides: list[str],
    out_dir: Path,
    force: bool = False,
    also: Callable[[Path], object] | None = None,
) -> Path:
    """Write one run's folder atomically and return its path.

    Files: weekly.parquet/.csv, individuals.parquet/.csv (CSV so Excel users can open them),
    summary.json, manifest.json, and whatever `also(folder)` writes into the staged folder (the
    command line passes the charts), all renamed into place together.
    """
    out_dir = Path(out_dir)
    with staged_dir(out_dir, force) as tmp:
        result.weekly.to_parquet(tmp / "weekly.parquet", index=False)
        result.weekly.to_csv(tmp / "weekly.csv", index=False)
        result.individuals.to_parquet(tmp / "individuals.parquet", index=False)
        result.individuals.to_csv(tmp / "individuals.csv", index=False)
        result.employment_by_week.to_csv(tmp / "employment_by_week.csv", index=False)
        write_json(tmp / "summary.json", result.summary.to_json())
        write_json(tmp / "manifest.json", manifest(scenario, source, seed, weeks, overrides))
        if also is not None:
            also(tmp)
    return out_dir
