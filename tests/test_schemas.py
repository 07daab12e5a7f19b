"""The published formats: the JSON Schema files shipped in labsim/schemas/ are those of the typed answers,
freshly written answer files validate against them, and an answer file of another format is refused."""

from __future__ import annotations

import json
from importlib.resources import files

import jsonschema
import pytest

from labsim import PilotModel
from labsim.config.errors import LabsimError
from labsim.design.schemas import schema_text, schemas
from labsim.results.summary import RunSummary, results_of

from conftest import small_scenario
from report_fixtures import diagnosis_fixture, size_fixture

SHIPPED = files("labsim") / "schemas"


def shipped(name: str) -> dict:
    return json.loads((SHIPPED / name.replace(".json", ".schema.json")).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(schemas()))
def test_the_shipped_schema_is_the_answers_own(name):
    # a field added to an answer without writing the schemas again fails here (python -m labsim.design.schemas)
    made = schemas()[name]
    jsonschema.Draft202012Validator.check_schema(made)
    assert (SHIPPED / name.replace(".json", ".schema.json")).read_text(encoding="utf-8") == schema_text(made)


@pytest.fixture(scope="module")
def written():
    """A real small run's summary.json, and a size and a diagnosis answer as their files hold them."""
    model = PilotModel(small_scenario("weeks=40"), rng=1)
    model.run_for(40)
    return {"summary.json": results_of(model).summary.to_json(), "size.json": size_fixture(()).to_json(),
            "diagnosis.json": diagnosis_fixture(power=0.5, power_se=0.05).to_json()}


@pytest.mark.parametrize("name", ["summary.json", "size.json", "diagnosis.json"])
def test_freshly_written_answers_validate_and_read_back(name, written):
    data = json.loads(json.dumps(written[name], allow_nan=False))  # as the file holds it
    jsonschema.validate(data, shipped(name), cls=jsonschema.Draft202012Validator)
    damaged = {k: v for k, v in data.items() if k != next(iter(set(data) - {"schema"}))}
    with pytest.raises(jsonschema.ValidationError):  # a part missing is not the format
        jsonschema.validate(damaged, shipped(name), cls=jsonschema.Draft202012Validator)


def test_a_summary_reads_back_as_it_was_written(written):
    data = json.loads(json.dumps(written["summary.json"]))
    assert RunSummary.from_json(data).to_json() == data


@pytest.mark.parametrize("data, words", [
    ({"weeks": 60, "participants": {}}, "written in another format (no schema; this labsim reads labsim.summary/1)"),
    ({"schema": "labsim.summary/0"}, "written in another format (labsim.summary/0"),
    ({"schema": "labsim.summary/1", "weeks": 60}, "not a valid labsim.summary/1 answer"),
])
def test_an_old_or_damaged_summary_is_refused_in_one_line(data, words):
    with pytest.raises(LabsimError) as err:
        RunSummary.from_json(data, "r/summary.json")
    message = str(err.value)
    assert message.startswith("r/summary.json: ") and words in message and "\n" not in message, message
