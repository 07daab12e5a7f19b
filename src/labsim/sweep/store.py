"""A sweep's results store: a folder that fills chunk by chunk and survives any interruption.

    DIR/manifest.json     what is run: the experiment, the resolved base scenario, the points, the root
                          seed, labsim's and its dependencies' versions; checked again on --resume
    DIR/status.jsonl      one JSON line per event: start, each finished chunk, each failed replication,
                          finish (a torn last line from a kill is ignored)
    DIR/parts/*.parquet   one file per finished chunk (a block of one point's replications), written to a
                          temporary name and renamed, so a part is either whole or absent
    DIR/results.parquet   every row in point and replication order, written when the last chunk is in;
                          the parts are removed after it

The store repairs itself on --resume: a part that cannot be read or lacks rows of its chunk (a disk
that filled up, a copy that was cut short) and a damaged results.parquet are moved into `DIR/damaged/`
(kept, not deleted), a deleted parts/ is made again, and the chunks without a good part
are run again; results.parquet is rebuilt from the parts. `Store.check` tells `labsim results` which
chunks the status log says were finished but whose part is now damaged or missing.

A chunk's file name carries a key hashing (labsim version, root seed, the point's resolved scenario,
the replication block), so resuming skips exactly the chunks whose part exists. A part records its key,
and results.parquet the hash of the manifest's identity (`inputs_hash`), in their Parquet metadata: a
well-formed file copied in from another store is found out (`labsim results` refuses it, --resume sets it
aside and reruns) instead of being trusted. Results are never held
in memory beyond the chunks in flight; compaction reads the parts one at a time and writes row groups
of at most `ROW_GROUP` rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from labsim.config.errors import LabsimError
from labsim.results.output import _json_default, staged_dir, write_atomically

MANIFEST = "manifest.json"
STATUS = "status.jsonl"
PARTS = "parts"
RESULTS = "results.parquet"
DAMAGED = "damaged"  # damaged parts and results files, set aside on --resume
ROW_GROUP = 50_000  # rows gathered from the parts before results.parquet writes them (bounds memory)
CHUNK_KEY = b"labsim.chunk_key"  # a part's metadata: the key of the chunk it holds
INPUTS_HASH = b"labsim.inputs_hash"  # results.parquet's metadata: the hash of the store's identity


@dataclass(frozen=True)
class Chunk:
    """Replications `start` to `stop - 1` of one point, stored together as one part."""

    point: int
    start: int
    stop: int
    key: str

    @property
    def file(self) -> str:
        return f"p{self.point:06d}-r{self.start:06d}-{self.key}.parquet"


def chunk_key(labsim_version: str, root_seed: int, scenario: dict[str, Any], point: int,
              start: int, stop: int) -> str:
    """A short hash of everything that decides a chunk's rows."""
    text = json.dumps(
        {"labsim": labsim_version, "seed": root_seed, "scenario": scenario, "point": point,
         "replications": [start, stop]},
        sort_keys=True, default=_json_default,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def inputs_hash(identity: dict[str, Any]) -> str:
    """A short hash of a store's identity (what it was made from), as results.parquet records it."""
    text = json.dumps(identity, sort_keys=True, default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows (dicts that may lack some keys) as an Arrow table, columns in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return pa.table({c: pa.array([row.get(c) for row in rows]) for c in columns})


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table with the schema's columns and types (absent columns all null)."""
    arrays = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _problem(path: Path, columns: list[str], rows: int, key: bytes, value: str, other: str) -> str | None:
    """What is wrong with a Parquet file that should hold `rows` rows (read in full) and record `value`
    under `key` in its metadata (else it is `other`'s), or None."""
    try:
        got = pq.read_table(path, columns=columns)
    except (pa.ArrowException, OSError, ValueError) as err:
        return f"unreadable: {' '.join(str(err).split())[:80]}"
    if (got.schema.metadata or {}).get(key) != value.encode():
        return f"{FOREIGN} {other}"
    return None if got.num_rows == rows else f"{got.num_rows} rows instead of {rows}"


FOREIGN = "written by another"  # how a problem starts when a well-formed file belongs elsewhere


@contextmanager
def _readable(folder: Path) -> Iterator[None]:
    """A store file that cannot be read, as a one-line error that says how to repair it."""
    try:
        yield
    except (pa.ArrowException, OSError) as err:
        raise LabsimError(f"{folder}: a results file cannot be read ({' '.join(str(err).split())[:120]}); "
                          f"resume the job that wrote it (`labsim sweep EXPERIMENT --out {folder} --resume`) "
                          "to repair it") from None


class Store:
    """The folder of one sweep (or of another job kept the same way: `kind` names it in messages,
    `start` is the command that makes one, `resume` how to continue it)."""

    kind = "sweep"
    start = "labsim sweep"
    resume = "labsim sweep EXPERIMENT --out {folder} --resume"
    inputs = "experiment"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.parts = self.folder / PARTS

    # -- the manifest --------------------------------------------------------------------------------

    def check_new(self) -> None:
        """Refuse a folder that already exists (a new sweep never writes into one)."""
        if self.folder.exists():
            raise LabsimError(
                f"{self.folder}: folder already exists (add --resume to continue that {self.kind}, or choose "
                "another --out)"
            )

    def create(self, manifest: dict[str, Any]) -> None:
        """Start a new sweep folder with its manifest, made aside and renamed: whole or absent."""
        self.check_new()
        text = json.dumps(manifest, indent=2, default=_json_default) + "\n"
        with staged_dir(self.folder) as tmp:
            (tmp / PARTS).mkdir()
            write_atomically(tmp / MANIFEST, lambda p: p.write_text(text, encoding="utf-8"))

    def manifest(self) -> dict[str, Any]:
        """The sweep's manifest; a clear error if the folder is not a sweep."""
        path = self.folder / MANIFEST
        if not path.is_file():
            raise LabsimError(f"{self.folder}: not a {self.kind} folder (no {MANIFEST}); run `{self.start}` "
                              "without --resume to start one")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise LabsimError(f"{path}: not a readable manifest ({err})") from None
        if not isinstance(data, dict) or not {"identity", "points", "replications"} <= set(data):
            raise LabsimError(f"{self.folder}: not a {self.kind} folder ({MANIFEST} is not a {self.kind}'s: a run, "
                              f"size or diagnose folder?); only what `{self.start}` wrote is read here")
        return data

    def check_same(self, identity: dict[str, Any]) -> None:
        """Refuse to resume a store that was started from different inputs or another labsim."""
        old = self.manifest().get("identity", {})
        new = json.loads(json.dumps(identity, default=_json_default))
        changed = [k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]
        if changed:
            raise LabsimError(
                f"{self.folder}: this {self.kind} was started from a different {self.inputs} "
                f"({', '.join(changed)} changed since); resume it with the {self.inputs} as it was, "
                "or start it in a new folder"
            )

    # -- parts ---------------------------------------------------------------------------------------

    def finished(self) -> bool:
        return (self.folder / RESULTS).is_file()

    def done(self, chunk: Chunk) -> bool:
        return (self.parts / chunk.file).is_file()

    def clean(self) -> None:
        """Remove temporary files a killed sweep left behind."""
        for tmp in self.parts.glob(".*.tmp-*"):
            tmp.unlink(missing_ok=True)
        for tmp in self.folder.glob(".*.tmp-*"):
            tmp.unlink(missing_ok=True)

    def write_part(self, chunk: Chunk, rows: list[dict[str, Any]]) -> None:
        """Store a finished chunk's rows as one part, atomically, its chunk key in its metadata."""
        table = rows_table(rows)
        table = table.replace_schema_metadata({CHUNK_KEY: chunk.key.encode()})
        write_atomically(self.parts / chunk.file, lambda p: pq.write_table(table, p))

    # -- checks and repair ---------------------------------------------------------------------------

    def expected_rows(self) -> int:
        """Rows of the whole sweep: every point's replications."""
        manifest = self.manifest()
        return int(manifest["replications"]) * len(manifest["points"])

    def part_problem(self, chunk: Chunk) -> str | None:
        """Why the chunk's part is not good ("missing", or what is wrong), or None if it is whole."""
        path = self.parts / chunk.file
        if not path.is_file():
            return "missing"
        return _problem(path, ["replication"], chunk.stop - chunk.start, CHUNK_KEY, chunk.key, "chunk")

    def results_problem(self) -> str | None:
        """Why results.parquet is not good (missing, unreadable, another store's, not every row), or None."""
        path = self.folder / RESULTS
        if not path.is_file():
            return "missing"
        mine = inputs_hash(self.manifest()["identity"])
        return _problem(path, ["point"], self.expected_rows(), INPUTS_HASH, mine, self.kind)

    def set_aside(self, path: Path) -> Path:
        """Move a damaged file into `DAMAGED/` (as `NAME`, or `NAME.2`, ...): kept for a look, out of the way."""
        folder = self.folder / DAMAGED
        folder.mkdir(exist_ok=True)
        aside, n = folder / path.name, 1
        while aside.exists():
            n += 1
            aside = folder / f"{path.name}.{n}"
        path.rename(aside)
        return aside

    def repair(self, chunks: list[Chunk]) -> list[str]:
        """Before a resume: set aside a damaged results.parquet and damaged parts, make parts/ again if
        it is gone, drop parts a finished compaction left behind. Returns what was set aside."""
        aside: list[str] = []
        results = self.folder / RESULTS
        if results.exists():
            problem = self.results_problem()
            if problem is None:
                shutil.rmtree(self.parts, ignore_errors=True)  # killed after compaction, before the clean-up
                return aside
            aside.append(f"{RESULTS} ({problem})")
            self.set_aside(results)
        self.parts.mkdir(exist_ok=True)
        for chunk in chunks:
            problem = self.part_problem(chunk)
            if problem not in (None, "missing"):
                aside.append(f"{chunk.file} ({problem})")
                self.set_aside(self.parts / chunk.file)
        if aside:
            self.log("repaired", set_aside=aside)
        return aside

    def logged_chunks(self) -> list[Chunk]:
        """The chunks the status log says were finished."""
        chunks = []
        for e in self.status():
            if e.get("event") == "chunk":
                try:
                    chunks.append(Chunk(int(e["point"]), int(e["replications"][0]), int(e["replications"][1]),
                                        str(e["key"])))
                except (KeyError, IndexError, TypeError, ValueError):  # a line damaged into other JSON
                    continue
        return list(dict.fromkeys(chunks))  # a chunk rerun after a repair is logged twice

    def check(self) -> None:
        """Refuse to summarise a damaged store: a bad results.parquet, or chunks the status log says were
        finished whose part is damaged or missing (a sweep still running has none of those)."""
        resume = f"run `{self.resume.format(folder=self.folder)}` to repair it"
        if self.finished():
            problem = self.results_problem()
            if problem:
                said = problem if problem.startswith(FOREIGN) else f"damaged ({problem})"
                raise LabsimError(f"{self.folder / RESULTS}: {said}; {resume}")
            return
        bad = [(c, p) for c in self.logged_chunks() if (p := self.part_problem(c))]
        if bad:
            damaged = [f"{c.file} ({p})" for c, p in bad if p != "missing"]
            missing = [c for c, p in bad if p == "missing"]
            said = [f"{len(damaged)} damaged: {', '.join(damaged[:3])}{' ...' if len(damaged) > 3 else ''}"] \
                if damaged else []
            if missing:
                said.append(f"{len(missing)} missing (point {', '.join(str(c.point) for c in missing[:5])}"
                            f"{' ...' if len(missing) > 5 else ''})")
            raise LabsimError(f"{self.folder}: finished chunks are gone from {PARTS}/: {'; '.join(said)}; {resume}")

    def _tables(self, files: list[Path], columns: list[str] | None = None):
        """The parts' common schema (a column missing from a part, e.g. one whose runs all failed, is
        null there; an integer column that is fractional elsewhere becomes float) and the parts in it,
        read one at a time."""
        schemas = [pq.read_schema(f) for f in files]
        schema = pa.unify_schemas(schemas, promote_options="permissive")
        if columns is not None:
            schema = pa.schema([f for f in schema if f.name in columns])
        tables = (
            _conform(pq.read_table(f, columns=[n for n in schema.names if n in own.names]), schema)
            for f, own in zip(files, schemas)
        )
        return schema, tables

    def compact(self, chunks: list[Chunk]) -> int:
        """Stream every chunk's part, in point and replication order, into results.parquet; remove the
        parts. Returns the number of rows."""
        files = [self.parts / c.file for c in sorted(chunks, key=lambda c: (c.point, c.start))]
        schema, tables = self._tables(files)
        schema = schema.with_metadata({INPUTS_HASH: inputs_hash(self.manifest()["identity"]).encode()})
        rows = 0

        def write(fh) -> None:
            nonlocal rows
            batch: list[pa.Table] = []
            with pq.ParquetWriter(fh, schema) as writer:
                for table in tables:
                    batch.append(table)
                    rows += table.num_rows
                    if sum(t.num_rows for t in batch) >= ROW_GROUP:
                        writer.write_table(pa.concat_tables(batch))
                        batch = []
                if batch or not rows:
                    writer.write_table(pa.concat_tables(batch) if batch else schema.empty_table())

        def write_file(path: Path) -> None:
            with open(path, "wb") as fh:
                write(fh)

        write_atomically(self.folder / RESULTS, write_file)
        shutil.rmtree(self.parts, ignore_errors=True)
        return rows

    def columns(self) -> list[str]:
        """The names of the columns stored so far."""
        with _readable(self.folder):
            if self.finished():
                return pq.read_schema(self.folder / RESULTS).names
            files = sorted(self.parts.glob("p*.parquet"))
            return self._tables(files)[0].names if files else []

    def read(self, columns: list[str] | None = None) -> pa.Table:
        """All rows so far (from results.parquet, or the parts of an unfinished sweep)."""
        with _readable(self.folder):
            return self._read(columns)

    def _read(self, columns: list[str] | None) -> pa.Table:
        if self.finished():
            path = self.folder / RESULTS
            names = pq.read_schema(path).names
            return pq.read_table(path, columns=None if columns is None else [c for c in names if c in columns])
        files = sorted(self.parts.glob("p*.parquet"))
        if not files:
            return pa.table({})
        schema, tables = self._tables(files, columns)
        return pa.concat_tables(tables).sort_by([("point", "ascending"), ("replication", "ascending")])

    # -- the status log ------------------------------------------------------------------------------

    def log(self, event: str, **fields: Any) -> None:
        """Append one event to the status log (a single write, so lines never interleave)."""
        line = json.dumps({"time": _now(), "event": event, **fields}, default=_json_default) + "\n"
        fd = os.open(self.folder / STATUS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def status(self) -> list[dict[str, Any]]:
        """The events logged so far (a torn last line, from a kill mid-write, or any line that is not a
        JSON object, is skipped)."""
        path = self.folder / STATUS
        events = []
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    event = json.loads(line)
                except (json.JSONDecodeError, RecursionError):
                    continue
                if isinstance(event, dict):
                    events.append(event)
        return events
