"""The code's layers, read from src/labsim/layers.toml: each module imports only from its own layer and
the layers that file allows (imports inside functions count too); docs/architecture.md shows the file
and maps every module (`python scripts/architecture.py` rewrites its generated parts), docs/model.md
every module of the model."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "labsim"
DOC = SRC.parents[1] / "docs" / "architecture.md"
SPEC = tomllib.loads((SRC / "layers.toml").read_text(encoding="utf-8"))["layer"]
LAYERS = tuple(layer["name"] for layer in SPEC)
ALLOWED = {layer["name"]: {layer["name"], *layer["imports"]} for layer in SPEC}
OWNER = {module: layer["name"] for layer in SPEC for module in layer["modules"]}


def layer_of(module: str) -> str | None:
    """The layer of a dotted module under labsim (None for the package root, which only re-exports)."""
    parts = module.split(".")
    if parts[0] != "labsim" or len(parts) == 1:
        return None
    if parts[1] not in OWNER:
        raise AssertionError(f"module labsim.{parts[1]} belongs to no layer; name it in src/labsim/layers.toml")
    return OWNER[parts[1]]


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
def test_module_imports_only_its_layer_or_those_it_may(name, path):
    own = layer_of(name)
    if own is None:
        return
    for imported in imports_of(path):
        if imported == "labsim":
            continue  # the root only carries __version__ and lazy re-exports
        assert layer_of(imported) in ALLOWED[own], (
            f"{name} ({own}) imports {imported} ({layer_of(imported)}): layers.toml allows {own} only "
            f"{sorted(ALLOWED[own])}"
        )


def test_the_layers_file_is_an_order_each_importing_only_below_itself():
    for i, layer in enumerate(SPEC):
        assert set(layer["imports"]) <= set(LAYERS[:i]), f"{layer['name']} may import only layers below it"
        for module in layer["modules"]:
            assert (SRC / module).is_dir() or (SRC / f"{module}.py").is_file(), f"layers.toml names {module}"
    assert len(OWNER) == sum(len(layer["modules"]) for layer in SPEC), "a module is named in two layers"


def test_every_layer_is_a_folder_or_a_named_module():
    for module in OWNER:
        if (SRC / module).is_dir():
            assert (SRC / module / "__init__.py").is_file(), f"labsim/{module}/ needs an __init__.py"
    top = {p.stem for p in SRC.glob("*.py")} | {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    assert top - {"__init__"} <= set(OWNER), f"modules outside any layer: {top - {'__init__'} - set(OWNER)}"


# -- docs/architecture.md, generated from layers.toml and the modules' docstrings ---------------------------


def layer_table() -> str:
    rows = ["| layer | holds | may import |", "|---|---|---|"]
    for layer in SPEC:
        where = ", ".join(f"`{m}/`" if (SRC / m).is_dir() else f"`{m}.py`" for m in layer["modules"])
        rows.append(f"| **{layer['name']}** ({where}) | {layer['holds']} | {', '.join(layer['imports']) or '-'} |")
    return "\n".join(rows)


def first_sentence(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    para = " ".join(doc.split("\n\n")[0].split())
    return re.split(r"(?<=[a-z)`\"])\. ", para)[0].removesuffix(".").replace("|", "\\|")


def module_map() -> str:
    out = []
    for layer in SPEC:
        out += [f"**{layer['name']}**", "", "| module | what it holds |", "|---|---|"]
        for name, path in modules():
            if layer_of(name) == layer["name"] and not path.name == "__init__.py":
                out.append(f"| `{path.relative_to(SRC).as_posix()}` | {first_sentence(path)} |")
        out.append("")
    return "\n".join(out).rstrip()


def generated(text: str, part: str) -> str:
    found = re.search(rf"<!-- {part}: generated.*?-->\n(.*?)\n<!-- end {part} -->", text, re.S)
    assert found, f"docs/architecture.md has no generated {part} block"
    return found.group(1)


def listed(text: str) -> list[str]:
    """The module paths a map's table rows name (`folder/module.py`)."""
    return re.findall(r"^\| `([\w/]+\.py)` \|", text, re.M)


def test_architecture_doc_shows_the_layers_file():
    assert generated(DOC.read_text(encoding="utf-8"), "layers") == layer_table(), (
        "docs/architecture.md's layer table differs from src/labsim/layers.toml: run `python scripts/architecture.py`")


def test_architecture_doc_maps_every_module_and_only_those():
    tree = [path.relative_to(SRC).as_posix() for _, path in modules() if path.name != "__init__.py"]
    mapped = listed(generated(DOC.read_text(encoding="utf-8"), "modules"))
    assert sorted(mapped) == sorted(tree), (
        f"docs/architecture.md's module map: missing {sorted(set(tree) - set(mapped))}, "
        f"gone {sorted(set(mapped) - set(tree))}: run `python scripts/architecture.py`")


def test_model_doc_maps_every_module_of_the_model():
    """docs/model.md's "Shape of the code" describes every module of config/ and world/ (and no other)."""
    text = (SRC.parents[1] / "docs" / "model.md").read_text(encoding="utf-8")
    shape = text.split("## Shape of the code", 1)[1].split("\n## ", 1)[0]
    model = [path.relative_to(SRC).as_posix() for name, path in modules()
             if layer_of(name) in ("config", "world") and path.name != "__init__.py"]
    mapped = listed(shape)
    assert sorted(mapped) == sorted(model), (sorted(set(model) - set(mapped)), sorted(set(mapped) - set(model)))
