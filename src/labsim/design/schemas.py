"""The published formats of the answer files, as JSON Schema shipped in the package (labsim/schemas/).

Each schema is made from the typed answer's dataclass (`labsim.results.answer_file.json_schema`), so the
file and the code cannot disagree: tests/test_schemas.py checks the shipped files against the dataclasses
and freshly written answers against the files. After changing an answer's fields (and its `SCHEMA`
version), write them again:

    PYTHONPATH=src python -m labsim.design.schemas
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labsim.design import calibrate, diagnose, plan, sensitivity, size_answer, validation
from labsim.results import summary
from labsim.results.answer_file import json_schema

FOLDER = Path(__file__).resolve().parents[1] / "schemas"


def schemas() -> dict[str, dict[str, Any]]:
    """Each answer file's schema by the file's name (e.g. "size.json")."""
    return {
        "size.json": json_schema(size_answer.SizeAnswer, size_answer.SCHEMA,
                                 {"minimum_size": int | None, "headline": size_answer.Headline,
                                  "verdict": size_answer.Verdict}),
        "diagnosis.json": json_schema(diagnose.Diagnosis, diagnose.SCHEMA),
        "summary.json": json_schema(summary.RunSummary, summary.SCHEMA),
        "sensitivity.json": json_schema(sensitivity.Sensitivity, sensitivity.SCHEMA),
        "calibration.json": json_schema(calibrate.Calibration, calibrate.SCHEMA),
        "validation.json": json_schema(validation.Validation, validation.SCHEMA),
        "plan.json": json_schema(plan.Plan, plan.SCHEMA),
    }


def schema_text(schema: dict[str, Any]) -> str:
    """A schema as its shipped file holds it."""
    return json.dumps(schema, indent=1) + "\n"


def write_schemas(folder: Path = FOLDER) -> list[Path]:
    """Write every schema into `folder` (default the package's labsim/schemas/); return the files."""
    folder.mkdir(exist_ok=True)
    paths = []
    for name, schema in schemas().items():
        path = folder / name.replace(".json", ".schema.json")
        path.write_text(schema_text(schema), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_schemas():
        print(f"wrote {written}")
