"""The docs describe every scenario parameter (a new field without docs fails here)."""

from __future__ import annotations

from pydantic import BaseModel

from labsim.config.scenario import Scenario

from conftest import ROOT

DOCS = "\n".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))


def dotted_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            names += dotted_fields(sub, f"{path}.")
        else:
            names.append(path)
    return names


def test_every_scenario_parameter_is_documented():
    fields = [f for f in dotted_fields(Scenario) if f not in ("name", "description")]
    missing = [f for f in fields if f"`{f}`" not in DOCS]
    assert not missing, f"parameters missing from docs/: {missing}"
