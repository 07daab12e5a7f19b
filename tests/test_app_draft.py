"""The page's scenario editing, without a browser: levers laid over the file, the TOML written back,
uploads refused with the same one-line errors as `labsim run`."""

from __future__ import annotations

import pytest

pytest.importorskip("tomli_w", reason="needs the app extra: pip install 'labsim[app]'")

from labsim.app.draft import MAX_UPLOAD_BYTES, from_file, from_upload  # noqa: E402
from labsim.app.levers import LEVERS, shown_for  # noqa: E402
from labsim.cli import bundled  # noqa: E402
from labsim.config.errors import ScenarioError  # noqa: E402
from labsim.config.scenario import load_scenario  # noqa: E402


def test_edited_scenario_written_as_toml_loads_with_the_levers_values(tmp_path):
    draft = from_file(bundled()["baseline"])
    draft = draft.with_change("referral.mode", "mandatory").with_change("referral.target_participants", 900)
    draft = draft.with_change("payment.preset", "outcome_only").with_change("market.matching_efficiency", 0.02)
    path = tmp_path / "edited.toml"
    path.write_text(draft.toml(), encoding="utf-8")
    loaded = load_scenario(path)
    assert (loaded.referral.mode, loaded.referral.target_participants) == ("mandatory", 900)
    assert loaded.payment == load_scenario(bundled()["baseline"], ["payment={preset='outcome_only'}"]).payment
    assert loaded.market.matching_efficiency == 0.02
    assert loaded.area == draft.scenario().area == load_scenario(bundled()["baseline"]).area


def test_every_lever_names_a_scenario_field_and_holds_its_value():
    for name, path in bundled().items():
        scenario = load_scenario(path)
        for shown in shown_for(scenario):
            lever = shown.lever
            if lever.choices:
                assert shown.value in lever.choices, (name, lever.path)
            else:
                assert shown.low <= shown.value <= shown.high, (name, lever.path)
    assert len({lever.path for lever in LEVERS}) == len(LEVERS)


def test_bad_uploads_get_one_line_naming_the_file():
    with pytest.raises(ScenarioError, match=r"^broken\.toml: not valid TOML"):
        from_upload("broken.toml", b"[area\njob_seekers = ")
    with pytest.raises(ScenarioError, match=r"^odd\.toml: field 'area\.job_seekers'"):
        from_upload("odd.toml", b"[area]\njob_seekers = -5\n")
    with pytest.raises(ScenarioError, match="at most"):
        from_upload("big.toml", b"#" * (MAX_UPLOAD_BYTES + 1))
    with pytest.raises(ScenarioError, match="UTF-8"):
        from_upload("bin.toml", b"\xff\xfe\x00")


def test_quick_size_search_reports_every_pilot_it_simulates():
    from labsim.app.quick_size import quick_request, quick_settings, search
    from labsim.design.size_job import rollout_worlds, search_pilots
    from labsim.config.scenario import parse_scenario

    scenario = parse_scenario({"weeks": 30, "area": {"job_seekers": 1500, "offices": 2, "burn_in_weeks": 8},
                               "referral": {"mode": "mandatory", "intake_weeks": 20, "target_participants": 100},
                               "providers": {"count": 1, "capacity": 400}, "pilot": {"end_week": 30}})
    settings = quick_settings(workers=1)
    seen = []
    done = search(scenario, settings, lambda: seen.append(1))
    answer = done.answer  # the size job's whole answer: the roll-out worlds come on top of the searches
    assert len(seen) == answer.sims_total - answer.rollout.sims <= search_pilots(quick_request(scenario, settings))
    assert answer.rollout.sims == rollout_worlds(settings)  # the page states both counts
    assert len(done.rows) + (answer.type_i.sims if answer.type_i else 0) == len(seen)
    assert answer.rollout.overstatement.worlds > 0 and answer.question.precision == settings.precision


def test_an_edited_scenario_says_it_was_edited_and_what_changed(tmp_path):
    original = from_file(bundled()["baseline"])
    assert original.description("fi").startswith("Keskikokoinen työllisyysalue")  # the file's Finnish text
    draft = original.with_change("referral.mode", "mandatory").with_change("referral.target_participants", 1100)
    assert draft.description("fi").endswith(
        "Muokattu sivulla: ohjaustapa vapaaehtoinen ohjaus → velvoittava ohjaus; paikkoja 600 → 1\u00a0100.")
    assert "Ändrat på sidan: anvisningsregel frivillig anvisning → obligatorisk anvisning; platser 600 → 1\u00a0100" \
        in draft.description("sv")
    path = tmp_path / "edited.toml"
    path.write_text(draft.toml(), encoding="utf-8")
    saved = load_scenario(path)  # the saved file, and so its run report, carries the new description
    assert "Edited on the page: referral rule voluntary referral → mandatory referral; places 600 → 1,100." \
        in saved.description
    assert saved.description_fi == draft.description("fi") and saved.description_sv == draft.description("sv")
    back = draft.with_change("referral.mode", "voluntary").with_change("referral.target_participants", 600)
    assert back.description("en") == original.description("en")  # moved back: nothing was changed


class _Ended:
    """A child process that has already ended (as after the last message it sent)."""

    exitcode = 0

    def is_alive(self):
        return False

    def join(self, timeout=None):
        pass


@pytest.mark.parametrize("last, answer, error", [("done", "the answer", None), ("failed", None, "no places")])
def test_the_page_follows_the_search_by_its_typed_messages(last, answer, error):
    import multiprocessing
    import threading

    from labsim.app.quick_size import PilotDone, SearchDone, SearchFailed, SizeJob

    job = SizeJob.__new__(SizeJob)  # the messages only: no child process
    job._conn, child = multiprocessing.Pipe(duplex=False)
    job._process, job.done, job.answer, job.error, job.cancelled = _Ended(), 0, None, None, threading.Event()
    for message in (PilotDone(), PilotDone(), SearchDone(answer) if last == "done" else SearchFailed(error)):
        child.send(message)
    seen = []
    job.follow(lambda j: seen.append(j.done))
    assert (job.done, job.answer, job.error) == (2, answer, error)
    assert seen == [1, 2, 2]
