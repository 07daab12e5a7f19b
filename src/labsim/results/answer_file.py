"""Typed answers as JSON files, and back: the one way every answer file (size.json, diagnosis.json, ...)
is written and read.

An answer is a frozen dataclass whose parts are frozen dataclasses of their own (statsmodels' results
objects). `plain(answer)` gives its JSON values: dataclasses as objects of their fields, tuples as
lists, NaN and infinities as null. `typed(kind, value)` is the inverse, guided by the fields' type
annotations; a null float reads back as NaN, or as infinity for the fields named in `open_ends` (an open
end of an interval: no size reaches it). `read_answer` checks the file's `schema` field (the format's name
and version) first and refuses another format, or a file missing a part, in one line.

`json_schema(kind, schema)` is the JSON Schema of the same dataclass, shipped as labsim/schemas/*.json.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, ClassVar

from labsim.config.errors import LabsimError


def plain(value: Any) -> Any:
    """A frozen answer as JSON values: dataclasses as objects (their fields), tuples as lists, NaN and
    infinities as null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def typed(kind: Any, value: Any, name: str = "", open_ends: frozenset[str] = frozenset()) -> Any:
    """The JSON value as the type `kind` (a field's annotation): the inverse of `plain`."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _one_of([a for a in args if a is not type(None)], value, name, open_ends)
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise ValueError(f"{kind.__name__}: an object belongs here, not {value!r}")
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: typed(hints[f.name], value[f.name], f"{kind.__name__}.{f.name}", open_ends)
                       for f in dataclasses.fields(kind) if f.name in value or not _has_default(f)})
    if origin is tuple:
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        if len(items) != len(value):
            raise ValueError(f"{name}: {len(value)} values where {len(items)} belong")
        return tuple(typed(k, v, name, open_ends) for k, v in zip(items, value))
    if origin is dict:
        return {str(k): typed(args[1], v, name, open_ends) for k, v in value.items()}
    if kind is float:
        return (math.inf if name in open_ends else math.nan) if value is None else float(value)
    if kind is int:
        return int(value)
    if kind in (str, bool):
        return kind(value)
    return value


def _one_of(kinds: list[Any], value: Any, name: str, open_ends: frozenset[str]) -> Any:
    """The value as the first of `kinds` it reads as: a number or word as its own type (an integer stays
    one in `int | float`), else each kind in turn (e.g. a Morris or a tornado row)."""
    own = next((k for k in kinds if k in (int, float, str, bool) and type(value) is k), None)
    if own is not None:
        return own(value)
    for kind in kinds[:-1]:
        try:
            return typed(kind, value, name, open_ends)
        except (KeyError, TypeError, ValueError):
            continue
    return typed(kinds[-1], value, name, open_ends)


def _has_default(f: dataclasses.Field) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def read_answer(kind: type, data: Any, schema: str, source: str, command: str,
                open_ends: frozenset[str] = frozenset()) -> Any:
    """An answer file's JSON as the typed answer `kind`; a file of another format (an older labsim's, with
    no `schema` or another one) or one missing a part is refused in one line naming the file."""
    found = data.get("schema") if isinstance(data, dict) else None
    if found != schema:
        raise LabsimError(f"{source}: written in another format ({'no schema' if found is None else found}; "
                          f"this labsim reads {schema}): run `labsim {command}` again to answer in the current one")
    try:
        return typed(kind, data, "", open_ends)
    except (KeyError, TypeError, ValueError) as err:
        raise LabsimError(f"{source}: not a valid {schema} answer ({type(err).__name__}: {err})") from None


class AnswerFile:
    """What every typed answer shares: written as its file with the format's name (`FORMAT`), read back
    checked against it. A subclass (a frozen dataclass) names its format, its file and the command that
    writes it, and the fields whose null reads back as an open end (infinity)."""

    FORMAT: ClassVar[str]
    FILE: ClassVar[str]
    COMMAND: ClassVar[str]
    OPEN_ENDS: ClassVar[frozenset[str]] = frozenset()

    def to_json(self) -> dict[str, Any]:
        """The answer file: its format's name, then the fields, NaN and infinities as null (docs/formats.md)."""
        return {"schema": self.FORMAT, **plain(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str | None = None):
        """Read the answer file back; a file of another format (an older labsim's) is refused in one line."""
        return read_answer(cls, data, cls.FORMAT, source or cls.FILE, cls.COMMAND, cls.OPEN_ENDS)


# -- JSON Schema ----------------------------------------------------------------------------------------------


def json_schema(kind: type, schema: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an answer file: the dataclass `kind`'s fields, every one required
    unless it has a default, `schema` fixed to the format's name; `extra` adds fields written beside the
    dataclass's own, by name and type (e.g. size.json's `headline`)."""
    defs: dict[str, Any] = {}
    body = _object(kind, defs)
    added = {name: _schema_of(t, defs) for name, t in (extra or {}).items()}
    body["properties"] = {"schema": {"const": schema}, **body["properties"], **added}
    body["required"] = ["schema", *body["required"], *added]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema,
            "title": kind.__name__, "description": _first_line(kind), **body, "$defs": defs}


def _object(kind: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)
    fields = dataclasses.fields(kind)
    return {"type": "object",
            "properties": {f.name: _schema_of(hints[f.name], defs) for f in fields},
            "required": [f.name for f in fields if not _has_default(f)],
            "additionalProperties": False}


def _schema_of(kind: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_schema_of(a, defs) for a in args]}
    if dataclasses.is_dataclass(kind):
        if kind.__name__ not in defs:
            defs[kind.__name__] = {}  # a placeholder first: a part may name its own kind
            defs[kind.__name__] = {"description": _first_line(kind), **_object(kind, defs)}
        return {"$ref": f"#/$defs/{kind.__name__}"}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema_of(args[0], defs)}
        return {"type": "array", "prefixItems": [_schema_of(a, defs) for a in args],
                "minItems": len(args), "maxItems": len(args)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema_of(args[1], defs)}
    if kind is float:  # NaN and infinities are written null
        return {"type": ["number", "null"]}
    simple = {int: "integer", str: "string", bool: "boolean", type(None): "null"}
    if kind in simple:
        return {"type": simple[kind]}
    return {}


def _first_line(kind: type) -> str:
    return (kind.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
