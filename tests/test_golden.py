"""No number changed: a run, a diagnosis and a size answer on tiny worlds with fixed seeds, against the
files the same commands wrote before a refactoring (tests/golden/*.json, each with its command).

Every number and text in the stored answer must come out again, numbers to 1e-12 relative (the same
seeds give the same pilots; only the order of floating-point sums may differ); a key the format has
gained since is allowed, a key it has lost is not. Wall-clock seconds are left out. To write the files
again after a change that is meant to change numbers (say so in the commit):

    PYTHONPATH=src python tests/test_golden.py
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
TINY = ["--set", "area.job_seekers=3000", "--set", "area.burn_in_weeks=26", "--set", "weeks=60",
        "--set", "referral.target_participants=300"]
#: name -> (command line, the answer file it writes)
COMMANDS = {
    "run": (["run", "baseline", "--seed", "3", *TINY], "summary.json"),
    "diagnose": (["diagnose", "baseline", "--sims", "4", "--workers", "1", "--seed", "2", *TINY], "diagnosis.json"),
    # mandatory referral, full effort and a large effect, so that a size is found in a tiny world whatever
    # the draws (without full effort a 5-pilot batch may miss 50 % power at every size the area fills): the central search,
    # the type-I check, the accounts batch, the evidence over one range and the roll-out all take part
    "size": (["size", "baseline", "--batch", "5", "--budget", "20", "--workers", "1", "--alpha", "0.2",
              "--power", "0.5", "--precision", "0.5", "--vary", "providers.effort_effect=0.7:1.0", *TINY,
              "--set", "referral.mode=mandatory", "--set", "providers.effort_effect=1.0",
              "--set", "providers.effort=1.0"], "size.json"),
}
CLOCK = {"seconds"}  # wall-clock time: the one figure that differs between two identical runs


def answer(name: str, out: Path) -> dict:
    """Run the named command into `out`; its answer file without the wall-clock figures."""
    from labsim.cli import main

    argv, file = COMMANDS[name]
    assert main([*argv, "--out", str(out)]) == 0
    return _without_clock(json.loads((out / file).read_text(encoding="utf-8")))


def _without_clock(value):
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k not in CLOCK}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


def differences(old, new, path: str = "") -> list[str]:
    """Where `new` differs from `old`: a value changed (numbers beyond 1e-12 relative) or a key lost."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return [f"{path}: was an object, now {new!r}"]
        return [d for k, v in old.items()
                for d in (differences(v, new[k], f"{path}.{k}".lstrip(".")) if k in new
                   else [f"{path}.{k}: lost".lstrip(".")])]
    if isinstance(old, list):
        if not isinstance(new, list) or len(new) != len(old):
            return [f"{path}: was {len(old)} items, now {new!r}"]
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f"{path}[{i}]")]
    numbers = (int, float)
    if isinstance(old, numbers) and not isinstance(old, bool) and isinstance(new, numbers) and not isinstance(new, bool):
        return [] if math.isclose(old, new, rel_tol=1e-12, abs_tol=1e-15) else [f"{path}: {old!r} -> {new!r}"]
    return [] if old == new else [f"{path}: {old!r} -> {new!r}"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_same_seeds_give_the_same_numbers(name, tmp_path):
    stored = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    assert stored["command"] == ["labsim", *COMMANDS[name][0]], "the command changed: write the golden files again"
    found = differences(stored["answer"], answer(name, tmp_path / name))
    assert not found, "\n".join(found[:20])


def test_a_changed_number_is_found():
    # the comparison itself: a changed number, a lost key and a changed text are found; a gained key is not
    old = {"a": 1.0, "b": [1, {"c": "x"}], "d": 0.1 + 0.2}
    assert differences(old, {"a": 1.0, "b": [1, {"c": "x"}], "d": 0.3, "e": 5}) == []
    assert differences(old, {"a": 1.0 + 1e-9, "b": [1, {"c": "y"}]}) == ["a: 1.0 -> 1.000000001", "b[1].c: 'x' -> 'y'",
                                                                        "d: lost"]


if __name__ == "__main__":  # write the golden files again
    import tempfile

    GOLDEN.mkdir(exist_ok=True)
    for name in (sys.argv[1:] or sorted(COMMANDS)):
        with tempfile.TemporaryDirectory() as tmp:
            data = {"command": ["labsim", *COMMANDS[name][0]], "answer": answer(name, Path(tmp) / name)}
        (GOLDEN / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN / name}.json")
