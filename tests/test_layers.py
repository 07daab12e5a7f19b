"""The code's layers: config -> world -> results -> sweep -> design -> report -> cli, each importing only
from its own layer or below (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "labsim"
LAYERS = ("config", "world", "results", "sweep", "design", "report", "cli")


def layer_of(module: str) -> int | None:
    """Layer index of a dotted module under labsim (None for the package root, which only re-exports)."""
    parts = module.split(".")
    if parts[0] != "labsim" or len(parts) == 1:
        return None
    name = parts[1]
    if name == "catalog":  # the bundled files, found as config finds its own: the cli and the page read it
        return LAYERS.index("config")
    if name in ("cli", "__main__", "app") or name.startswith("cli_"):  # the interactive page sits beside the cli
        return LAYERS.index("cli")
    if name not in LAYERS:
        raise AssertionError(f"module labsim.{name} belongs to no layer; put it in one of {LAYERS}")
    return LAYERS.index(name)


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [m for m in found if m == "labsim" or m.startswith("labsim.")]


def modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        yield name, path


@pytest.mark.parametrize("name,path", list(modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_module_imports_only_its_layer_or_below(name, path):
    own = layer_of(name)
    if own is None:
        return
    for imported in imports_of(path):
        if imported == "labsim":
            continue  # the root only carries __version__ and lazy re-exports
        assert layer_of(imported) <= own, (
            f"{name} ({LAYERS[own]}) imports {imported} ({LAYERS[layer_of(imported)]}), a higher layer"
        )


def test_every_layer_is_a_folder_or_the_cli():
    for layer in LAYERS[:-1]:
        if (SRC / layer).exists():
            assert (SRC / layer / "__init__.py").is_file(), f"labsim/{layer}/ needs an __init__.py"
    top = {p.stem for p in SRC.glob("*.py") if not p.stem.startswith("cli_")}  # cli_*: the cli layer
    layered = {"__init__", "__main__", "cli", "catalog"}
    assert top <= layered, f"modules outside any layer: {top - layered}"
