"""The scenario being edited on the page: the file as written, the levers' values laid over it.

An uploaded file is read as TOML text only (never executed), limited in size, and validated exactly as
`labsim run` validates a file, so a bad upload gets the same one-line message. The edited scenario is
written back as TOML (the original's fields and the levers' values) and loads with `labsim run`; its
descriptions (en, fi, sv) say it was edited and what changed, so they still describe it.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from labsim.config.errors import ScenarioError
from labsim.config.assumptions import value_at
from labsim.config.scenario import Scenario, parse_scenario, read_scenario_dict, set_field
from labsim.report.i18n import LANGS, text
from labsim.report.levers import lever_name, lever_value

MAX_UPLOAD_BYTES = 256 * 1024  # a scenario file is a few KB; the bundled ones are under 10 KB


@dataclass(frozen=True)
class Draft:
    """A scenario file's contents and the lever values changed on the page (dotted path -> value)."""

    data: dict[str, Any]
    source: str
    changes: dict[str, Any] = field(default_factory=dict)

    def edited(self) -> dict[str, Any]:
        """The file's fields with the changes laid over them, and descriptions that say so. A new payment
        preset replaces the file's payment terms (they were written for the old preset)."""
        data = copy.deepcopy(self.data)
        for path, value in self.changes.items():
            if path == "payment.preset":
                data["payment"] = {"preset": value}
            else:
                set_field(data, path, value, self.source)
        if self.differences():
            for lang in LANGS:
                key = "description" if lang == "en" else f"description_{lang}"
                data[key] = self.description(lang)
        return data

    def differences(self) -> dict[str, tuple[Any, Any]]:
        """The levers moved away from the file's values: path -> (the file's value, the page's)."""
        original = parse_scenario(self.data, self.source)
        return {path: (value_at(original, path), value) for path, value in self.changes.items()
                if value_at(original, path) != value}

    def description(self, lang: str) -> str:
        """The scenario's description in `lang` (the file's text in that language, else its English one),
        followed, once a lever has moved, by what was changed on the page."""
        original = parse_scenario(self.data, self.source)
        said = (getattr(original, f"description_{lang}", "") if lang != "en" else "") or original.description
        changes = self.differences()
        if not changes:
            return said
        listed = "; ".join(text("app_edited_change", lang, lever=lever_name(path, lang),
                                old=lever_value(path, old, lang), new=lever_value(path, new, lang))
                           for path, (old, new) in changes.items())
        return text("app_edited", lang, original=said.rstrip(". "), changes=listed)

    def scenario(self) -> Scenario:
        """The edited scenario, validated (ScenarioError names the field and what is allowed)."""
        return parse_scenario(self.edited(), self.source)

    def with_change(self, path: str, value: Any) -> Draft:
        return Draft(self.data, self.source, {**self.changes, path: value})

    def toml(self) -> str:
        """The edited scenario as TOML text, loadable with `labsim run`."""
        return tomli_w.dumps(self.edited())


def from_file(path: Path) -> Draft:
    """A bundled or local scenario file, validated."""
    draft = Draft(read_scenario_dict(path), str(path))
    draft.scenario()
    return draft


def check_upload_size(name: str, size: int) -> None:
    """Refuse a file above the limit before reading it."""
    if size > MAX_UPLOAD_BYTES:
        raise ScenarioError(name, None, f"file of {size:,} bytes; a scenario file may have at most {MAX_UPLOAD_BYTES:,}")


def from_upload(name: str, content: bytes) -> Draft:
    """An uploaded scenario file, size-limited and validated; errors are one line naming the file."""
    check_upload_size(name, len(content))
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError(name, None, "not a text file in UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(name, None, f"not valid TOML: {err}") from None
    draft = Draft(data, name)
    draft.scenario()
    return draft
