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
from report_fixtures import (
    calibration_fixture, diagnosis_fixture, plan_fixture, sensitivity_fixture, size_fixture, validation_fixture,
)

SHIPPED = files("labsim") / "schemas"


def shipped(name: str) -> dict:
    return json.loads((SHIPPED / name.replace(".json", ".schema.json")).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(schemas()))
def test_the_shipped_schema_is_the_answers_own(name):
    # a field added to an answer without writing the schemas again fails here (python -m labsim.design.schemas)
    made = schemas()[name]
    jsonschema.Draft202012Validator.check_schema(made)
    assert (SHIPPED / name.replace(".json", ".schema.json")).read_text(encoding="utf-8") == schema_text(made)


#: The typed answers of the commands (each written the way its command writes it), by file name.
ANSWERS = {"size.json": lambda: size_fixture(()), "diagnosis.json": lambda: diagnosis_fixture(power=0.5, power_se=0.05),
           "sensitivity.json": sensitivity_fixture, "calibration.json": calibration_fixture,
           "validation.json": validation_fixture, "plan.json": plan_fixture}


@pytest.fixture(scope="module")
def written():
    """A real small run's summary.json, and every typed answer as its file holds it."""
    model = PilotModel(small_scenario("weeks=40"), rng=1)
    model.run_for(40)
    return {"summary.json": results_of(model).summary.to_json(), **{name: made().to_json() for name, made in ANSWERS.items()}}


def test_every_published_format_has_an_answer_here():
    assert sorted(schemas()) == sorted(["summary.json", *ANSWERS])


@pytest.mark.parametrize("name", sorted(schemas()))
def test_freshly_written_answers_validate_and_read_back(name, written):
    data = json.loads(json.dumps(written[name], allow_nan=False))  # as the file holds it
    jsonschema.validate(data, shipped(name), cls=jsonschema.Draft202012Validator)
    # each required part in turn missing is not the format (a part chosen by a set's order was, now and
    # then, an optional one: the set's order follows the process's string hashing)
    parts = [k for k in shipped(name)["required"] if k != "schema"]
    assert parts, "the format requires no part besides its name: no damaged file could fail it"
    for part in parts:
        damaged = {k: v for k, v in data.items() if k != part}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(damaged, shipped(name), cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("name", ["sensitivity.json", "calibration.json", "validation.json", "plan.json"])
def test_an_answer_reads_back_equal_to_the_one_written(name):
    answer = ANSWERS[name]()
    data = json.loads(json.dumps(answer.to_json(), allow_nan=False))
    again = type(answer).from_json(data)
    assert again == answer and again.to_json() == data


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_an_old_or_damaged_answer_file_is_refused_in_one_line_naming_it(name):
    answer = ANSWERS[name]()
    data = json.loads(json.dumps(answer.to_json()))
    first = next(k for k in data if k != "schema")
    for bad, words in [({k: v for k, v in data.items() if k != "schema"}, "written in another format (no schema"),
                       ({**data, "schema": data["schema"][:-1] + "0"}, "written in another format"),
                       ({k: v for k, v in data.items() if k != first}, "not a valid")]:
        with pytest.raises(LabsimError) as err:
            type(answer).from_json(bad, f"r/{name}")
        message = str(err.value)
        assert message.startswith(f"r/{name}: ") and words in message and "\n" not in message, message


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
