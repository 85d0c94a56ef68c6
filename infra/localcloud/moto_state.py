"""The local AWS endpoint's state on disk, so that a restart (or a `kill -9`) loses nothing.

moto keeps everything in memory. `Persistence` sits in front of its WSGI app and writes to
one SQLite database (WAL) before a call is answered:
- **control-plane calls** (tables, queues, topics, rules, secrets, parameters, identities,
  bucket settings) are journaled as the requests they were and replayed in order at start:
  few, and replaying them rebuilds moto's own objects exactly;
- **DynamoDB item writes** (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
  TransactWriteItems) are kept as the items they leave behind (read back after the write,
  under one lock, so the last row written for a key is never older than an acknowledged
  write): a replay of 600,000 seeded puts would take a minute, a row per item loads lazily.

At start the tables come back empty and `LazyPartitions` (`moto_items`) stands in for each
table's item map: a partition (the items of one hash key) is read from the database the first
time moto looks it up, so the endpoint answers at once however much it holds; a scan or an
index query reads the rest.

Durability: each call's rows are committed before its response is sent, so a killed process
loses no acknowledged write; with `synchronous=NORMAL` an OS crash or power loss may lose
the commits since the last WAL checkpoint's sync (SQLite's documented WAL behaviour).
- **DynamoDB stream records** are committed with the items of the write that made them, and
  each table's stream keeps its label (so its ARN) across restarts (`moto_streams`).

SQS messages are kept by `moto_messages`, S3 objects by `moto_objects`, SES's sent mail by
`moto_mail`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

_REMOVING = ("Delete", "Unsubscribe", "RemovePermission", "DELETE")
# Request fields that name what a control call acts on (its resource).
_NAMING_FIELDS = ("QueueUrl", "QueueName", "Name", "TopicArn", "SubscriptionArn", "Endpoint",
                  "Rule", "EventBusName", "SecretId", "TableName", "ResourceArn",
                  "EmailAddress", "Domain", "TemplateName", "ConfigurationSetName")
# Calls that set the same thing as another call on the same resource (one "group").
_SAME_SETTING = {"EnableRule": "PutRule", "DisableRule": "PutRule",
                 "RemoveTargets": "PutTargets", "UpdateSecret": "PutSecretValue",
                 "UpdateSecretVersionStage": "PutSecretValue", "RotateSecret": "PutSecretValue"}
# The parts of a request's environ a replay needs (the rest is the server's own).
_REPLAYED_ENVIRON = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
                     "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME",
                     "SERVER_PROTOCOL", "wsgi.url_scheme")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY, operation TEXT NOT NULL,
                                     environ BLOB NOT NULL, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS items (region TEXT NOT NULL, tbl TEXT NOT NULL, hk TEXT NOT NULL,
                                  rk TEXT NOT NULL, doc BLOB NOT NULL,
                                  PRIMARY KEY (region, tbl, hk, rk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, region TEXT NOT NULL,
                                     queue TEXT NOT NULL, id TEXT NOT NULL, doc BLOB NOT NULL,
                                     UNIQUE (region, queue, id));
CREATE TABLE IF NOT EXISTS objects (bucket TEXT NOT NULL, key TEXT NOT NULL,
                                    file TEXT NOT NULL, meta BLOB NOT NULL,
                                    PRIMARY KEY (bucket, key));
CREATE TABLE IF NOT EXISTS streams (region TEXT NOT NULL, tbl TEXT NOT NULL,
                                    label TEXT NOT NULL, PRIMARY KEY (region, tbl))
                                    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_records (region TEXT NOT NULL, tbl TEXT NOT NULL,
                                           label TEXT NOT NULL, seq TEXT NOT NULL,
                                           doc BLOB NOT NULL,
                                           PRIMARY KEY (region, tbl, label, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mail (seq INTEGER PRIMARY KEY, region TEXT NOT NULL,
                                 doc BLOB NOT NULL);
"""


# (region, table, stream label, sequence number, record JSON)
StreamRow = tuple[str, str, str, int, bytes]


def seq_text(seq: int) -> str:
    """A stream sequence number as text that sorts in order (they pass SQLite's integers)."""
    return f"{seq:040d}"


def key_text(value: dict[str, Any] | None) -> str:
    """A key attribute's canonical text ('' for a table without a range key)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode() if value else ""


class StateStore:
    """The SQLite file: the journal of control calls, the items of every table, the messages
    of every queue, the objects of every bucket (their bytes in files beside it)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.lock = threading.Lock()
        self._last: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # setting -> its last call

    def journal(self, operation: str, environ: dict[str, Any], body: bytes) -> None:
        """Appends a control call, unless the last call journaled for the same setting of
        the same resource was this very call, with nothing removed since: `edu up`
        re-applies the template on every start, and replaying it twice changes nothing."""
        kept = {k: environ[k] for k in _REPLAYED_ENVIRON if isinstance(environ.get(k), str)}
        kept.update({k: v for k, v in environ.items()
                     if k.startswith("HTTP_") and isinstance(v, str)})
        with self.lock:
            setting, identity = self._setting(operation, kept, body)
            if self._last.get(setting) == identity:
                return
            self.db.execute("INSERT INTO requests (operation, environ, body) VALUES (?, ?, ?)",
                            (operation, orjson.dumps(kept), body))
            self._remember(operation, kept, body)

    @staticmethod
    def _setting(operation: str, kept: dict[str, Any], body: bytes
                 ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """(what the call sets: its group and resource, the call itself)."""
        fields: dict[str, Any] = {}
        if body[:1] == b"{":
            with contextlib.suppress(ValueError):
                fields = orjson.loads(body)
        elif body:
            from urllib.parse import parse_qs

            fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        resource = tuple(str(fields.get(name)) for name in _NAMING_FIELDS if name in fields)
        group = _SAME_SETTING.get(operation, operation)
        path = kept.get("PATH_INFO"), kept.get("QUERY_STRING")
        return (group, path, resource), (operation, path, body)

    def _remember(self, operation: str, kept: dict[str, Any], body: bytes) -> None:
        if operation.startswith(_REMOVING):
            self._last.clear()
        else:
            setting, identity = self._setting(operation, kept, body)
            self._last[setting] = identity

    def journaled(self) -> list[tuple[dict[str, str], bytes]]:
        """The journal in order (remembering each setting's last call, see `journal`)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT operation, environ, body FROM requests ORDER BY seq").fetchall()
            out = []
            for operation, environ, body in rows:
                kept = orjson.loads(environ)
                self._remember(operation, kept, bytes(body))
                out.append((kept, bytes(body)))
        return out

    def put_items(self, rows: Iterable[tuple[str, str, str, str, bytes | None]],
                  records: Iterable[StreamRow] = ()) -> None:
        """Rows of (region, table, hash key, range key, item JSON or None for deleted) and the
        stream records the writes made, in one transaction. The caller holds `lock`."""
        with self._transaction():
            for region, table, hk, rk, doc in rows:
                if doc is None:
                    self.db.execute("DELETE FROM items WHERE region=? AND tbl=? AND hk=? "
                                    "AND rk=?", (region, table, hk, rk))
                else:
                    self.db.execute("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?)",
                                    (region, table, hk, rk, doc))
            for region, table, label, seq, doc in records:
                self.db.execute("INSERT OR REPLACE INTO stream_records VALUES (?, ?, ?, ?, ?)",
                                (region, table, label, seq_text(seq), doc))

    def put_stream(self, region: str, table: str, label: str) -> None:
        """The table's current stream (its label makes the stream's ARN)."""
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO streams VALUES (?, ?, ?)",
                            (region, table, label))

    def trim_stream(self, region: str, table: str, label: str, first_kept: int) -> None:
        """Forgets the stream's records before `first_kept` (and those of older streams)."""
        with self.lock:
            self.db.execute("DELETE FROM stream_records WHERE region=? AND tbl=? AND "
                            "(label<>? OR seq<?)", (region, table, label, seq_text(first_kept)))

    def streams(self) -> list[tuple[str, str, str]]:
        """(region, table, label) of every table's current stream."""
        with self.lock:
            return self.db.execute("SELECT region, tbl, label FROM streams").fetchall()

    def stream_records(self, region: str, table: str, label: str) -> list[tuple[int, bytes]]:
        """(sequence number, record JSON) of a stream's kept records, in order."""
        with self.lock:
            rows = self.db.execute("SELECT seq, doc FROM stream_records WHERE region=? AND "
                                   "tbl=? AND label=? ORDER BY seq",
                                   (region, table, label)).fetchall()
        return [(int(seq), bytes(doc)) for seq, doc in rows]

    def put_mail(self, region: str, doc: bytes) -> None:
        with self.lock:
            self.db.execute("INSERT INTO mail (region, doc) VALUES (?, ?)", (region, doc))

    def mail(self) -> list[tuple[str, bytes]]:
        """(region, message) of all mail sent, oldest first."""
        with self.lock:
            rows = self.db.execute("SELECT region, doc FROM mail ORDER BY seq").fetchall()
        return [(region, bytes(doc)) for region, doc in rows]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One commit for several statements; nothing of them if one fails. The caller
        holds `lock`."""
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def drop_table(self, region: str, table: str) -> None:
        with self.lock, self._transaction():
            for kept in ("items", "streams", "stream_records"):
                self.db.execute(f"DELETE FROM {kept} WHERE region=? AND tbl=?",
                                (region, table))

    def hash_keys(self, region: str, table: str) -> set[str]:
        with self.lock:
            rows = self.db.execute("SELECT DISTINCT hk FROM items WHERE region=? AND tbl=?",
                                   (region, table)).fetchall()
        return {hk for (hk,) in rows}

    def partition(self, region: str, table: str, hk: str) -> list[bytes]:
        with self.lock:
            rows = self.db.execute("SELECT doc FROM items WHERE region=? AND tbl=? AND hk=?",
                                   (region, table, hk)).fetchall()
        return [bytes(doc) for (doc,) in rows]

    def tables(self) -> list[tuple[str, str]]:
        with self.lock:
            return self.db.execute("SELECT DISTINCT region, tbl FROM items").fetchall()

    def put_message(self, region: str, queue: str, message_id: str, doc: bytes) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO messages (region, queue, id, doc) "
                            "VALUES (?, ?, ?, ?)", (region, queue, message_id, doc))

    def drop_messages(self, region: str, queue: str, ids: Iterable[str] | None) -> None:
        """Forgets the queue's messages with these ids (all of them for None)."""
        with self.lock:
            if ids is None:
                self.db.execute("DELETE FROM messages WHERE region=? AND queue=?",
                                (region, queue))
                return
            with self._transaction():
                self.db.executemany("DELETE FROM messages WHERE region=? AND queue=? AND id=?",
                                    [(region, queue, message_id) for message_id in ids])

    def messages(self) -> list[tuple[str, str, str, bytes]]:
        """(region, queue, id, doc) of every kept message, oldest first."""
        with self.lock:
            rows = self.db.execute(
                "SELECT region, queue, id, doc FROM messages ORDER BY seq").fetchall()
        return [(region, queue, message_id, bytes(doc)) for region, queue, message_id, doc
                in rows]

    def put_object(self, bucket: str, key: str, file: str, meta: bytes) -> str | None:
        """Keeps an object's file and metadata; returns the file it replaced, if any."""
        with self.lock:
            old = self.db.execute("SELECT file FROM objects WHERE bucket=? AND key=?",
                                  (bucket, key)).fetchone()
            self.db.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                            (bucket, key, file, meta))
        return str(old[0]) if old and old[0] != file else None

    def drop_object(self, bucket: str, key: str) -> str | None:
        """Forgets an object; returns its file."""
        with self.lock:
            old = self.db.execute("SELECT file FROM objects WHERE bucket=? AND key=?",
                                  (bucket, key)).fetchone()
            self.db.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))
        return str(old[0]) if old else None

    def objects(self) -> list[tuple[str, str, str, bytes]]:
        """(bucket, key, file, metadata) of every kept object."""
        with self.lock:
            rows = self.db.execute("SELECT bucket, key, file, meta FROM objects").fetchall()
        return [(bucket, key, file, bytes(meta)) for bucket, key, file, meta in rows]

    def close(self) -> None:
        with self.lock:
            self.db.close()
