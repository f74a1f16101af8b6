"""Scratch space for a build or an ingest: article texts and extraction results, kept on disk until the write.

A build of 100,000 articles would otherwise hold every article's text (about 550 MB) and every article's
incidents as JSON (about 420 MB) in memory from the moment they are read or extracted until the one write at the
end. A :class:`Stage` keeps them by key instead: in memory while they are small (a one-article ingest never
touches the disk), in a temporary SQLite file once they pass :data:`MEMORY_LIMIT` bytes. The run then keeps only
what it needs to plan (metadata, summaries) and reads texts and incidents back a chunk at a time.

The stage is scratch, not the store: the store is still written once, in one transaction, from what the stage
holds, so a failed or killed run leaves the previous store as it was. The file is written without journal or
sync, sits beside a SQLite store under the store's temporary-file pattern (``.NAME.tmp-*-stage``, which the next
write of the store removes if a killed run left it behind), or in the system's temporary folder for a PostgreSQL
store, and is removed when the run ends.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

#: Bytes of text a stage keeps in memory before it moves everything to its file.
MEMORY_LIMIT = 32 * 2**20
#: Keys per query when reading back (one JSON array parameter each).
READ_CHUNK = 2000
#: What a stage holds: article texts by content hash, incidents JSON by article digest.
KINDS = ("text", "incidents")


class Stage:
    """Values (text) by kind and key, in memory up to ``limit`` bytes, then in a temporary SQLite file.

    ``folder`` is where the file goes (None: the system's temporary folder) and ``name`` what its name starts with.
    Use as a context manager, or call :meth:`close`: the file is removed either way.
    """

    def __init__(self, folder: Path | None = None, name: str = "incident-map", limit: int = MEMORY_LIMIT) -> None:
        self._folder, self._name, self._limit = folder, name, limit
        self._memory: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self._size = 0
        self._con: sqlite3.Connection | None = None
        self.path: Path | None = None

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def on_disk(self) -> bool:
        """Whether the stage has moved to its file."""
        return self._con is not None

    def put(self, kind: str, items: Iterable[tuple[str, str]]) -> None:
        """Keep ``(key, value)`` pairs of one kind; a key already kept keeps its first value (same key, same value)."""
        if self._con is not None:
            self._con.executemany(f"INSERT OR IGNORE INTO {_table(kind)} VALUES (?, ?)", items)
            return
        held = self._memory[kind]
        for key, value in items:
            if key not in held:
                held[key] = value
                self._size += len(value)
        if self._size > self._limit:
            self._spill()

    def get(self, kind: str, keys: Iterable[str]) -> dict[str, str]:
        """The values of the keys held (keys not held are left out)."""
        return dict(self.items(kind, keys))

    def items(self, kind: str, keys: Iterable[str]) -> Iterator[tuple[str, str]]:
        """``(key, value)`` for the keys held, read a chunk at a time (only a chunk is in memory at once)."""
        if self._con is None:
            held = self._memory[kind]
            for key in keys:
                if key in held:
                    yield key, held[key]
            return
        chunk: list[str] = []
        for key in keys:
            chunk.append(key)
            if len(chunk) >= READ_CHUNK:
                yield from self._read(kind, chunk)
                chunk = []
        if chunk:
            yield from self._read(kind, chunk)

    def close(self) -> None:
        """Forget everything and remove the file."""
        self._memory = {kind: {} for kind in KINDS}
        if self._con is not None:
            self._con.close()
            self._con = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None

    def _read(self, kind: str, keys: Sequence[str]) -> list[tuple[str, str]]:
        assert self._con is not None
        return self._con.execute(f"SELECT key, value FROM {_table(kind)} WHERE key IN "
                                 "(SELECT value FROM json_each(?))", (json.dumps(list(keys)),)).fetchall()

    def _spill(self) -> None:
        folder = self._folder if self._folder is not None and os.access(self._folder, os.W_OK) else None
        folder = folder or Path(tempfile.gettempdir())
        path = folder / f".{self._name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}-stage"
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # texts of others' articles: ours only
        self.path = path
        con = sqlite3.connect(path, isolation_level=None)
        try:
            # scratch: a crash loses it and nothing else, so no journal and no sync
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            # one transaction for the stage's life: a commit per article would cost more than the insert, and
            # this connection reads its own uncommitted rows (closing it discards them with the file)
            con.execute("BEGIN")
            for kind in KINDS:
                con.execute(f"CREATE TABLE {_table(kind)} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                con.executemany(f"INSERT INTO {_table(kind)} VALUES (?, ?)", self._memory[kind].items())
        except BaseException:
            con.close()
            self.close()
            raise
        self._con = con
        self._memory = {kind: {} for kind in KINDS}


def _table(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"a stage holds {', '.join(KINDS)}, not {kind!r}")
    return "staged_" + kind
