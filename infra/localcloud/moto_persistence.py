"""The local AWS endpoint's writes reach disk before they are answered (`Persistence`), and
come back at start (`restore`); the store and its lazy item maps are in `moto_state`.

What is kept how: control-plane calls as the requests they were (replayed in order), DynamoDB
item writes as the items they leave behind (read back after the write under the store's lock,
so the last row for a key is never older than an acknowledged write) with the stream records
they made.
"""

from __future__ import annotations

import functools
import io
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from localcloud.moto_items import LazyPartitions, dynamodb_backend
from localcloud.moto_objects import ObjectKeeper
from localcloud.moto_state import StateStore, key_text
from localcloud.moto_streams import StreamKeeper

SWEEP_EVERY_S = 1.0  # how often messages and objects that left are forgotten

# Calls that change what a service holds, other than its data plane (journaled, replayed).
CONTROL_OPERATIONS = {
    "dynamodb": {"CreateTable", "UpdateTable", "DeleteTable", "UpdateTimeToLive",
                 "TagResource", "UntagResource", "UpdateContinuousBackups"},
    "sqs": {"CreateQueue", "DeleteQueue", "SetQueueAttributes", "TagQueue", "UntagQueue",
            "AddPermission", "RemovePermission"},
    "sns": {"CreateTopic", "DeleteTopic", "Subscribe", "Unsubscribe", "SetTopicAttributes",
            "SetSubscriptionAttributes", "TagResource", "UntagResource",
            "ConfirmSubscription"},
    "events": {"CreateEventBus", "DeleteEventBus", "PutRule", "DeleteRule", "PutTargets",
               "RemoveTargets", "EnableRule", "DisableRule", "TagResource", "UntagResource",
               "PutPermission", "RemovePermission"},
    "secretsmanager": {"CreateSecret", "PutSecretValue", "UpdateSecret", "DeleteSecret",
                       "RestoreSecret", "TagResource", "UntagResource", "RotateSecret",
                       "UpdateSecretVersionStage", "PutResourcePolicy",
                       "DeleteResourcePolicy"},
    "ssm": {"PutParameter", "DeleteParameter", "DeleteParameters", "AddTagsToResource",
            "RemoveTagsFromResource", "LabelParameterVersion"},
    "ses": {"VerifyEmailIdentity", "VerifyEmailAddress", "VerifyDomainIdentity",
            "VerifyDomainDkim", "DeleteIdentity", "CreateTemplate", "UpdateTemplate",
            "DeleteTemplate", "CreateConfigurationSet", "DeleteConfigurationSet",
            "SetIdentityNotificationTopic", "SetIdentityFeedbackForwardingEnabled",
            "CreateReceiptRuleSet", "CreateReceiptRule", "SetActiveReceiptRuleSet"},
}
ITEM_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def _region(environ: dict[str, Any]) -> str:
    scope = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2]
    parts = scope.split(",", 1)[0].split("/")
    return parts[2] if len(parts) > 2 else "us-east-1"


def touched_keys(operation: str, request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(table, item or key attributes) of each item a write request may change."""
    if operation == "PutItem":
        return [(request["TableName"], request.get("Item") or {})]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(request["TableName"], request.get("Key") or {})]
    out: list[tuple[str, dict[str, Any]]] = []
    if operation == "BatchWriteItem":
        for table, writes in (request.get("RequestItems") or {}).items():
            for write in writes:
                if "PutRequest" in write:
                    out.append((table, write["PutRequest"].get("Item") or {}))
                elif "DeleteRequest" in write:
                    out.append((table, write["DeleteRequest"].get("Key") or {}))
    elif operation == "TransactWriteItems":
        for entry in request.get("TransactItems") or []:
            for kind, field in (("Put", "Item"), ("Update", "Key"), ("Delete", "Key")):
                if kind in entry:
                    out.append((entry[kind]["TableName"], entry[kind].get(field) or {}))
    return out


class Persistence:
    """WSGI middleware: writes what a call changed to the store before answering it."""

    def __init__(self, app: Callable[..., Any], store: StateStore, objects: ObjectKeeper,
                 streams: StreamKeeper) -> None:
        self.app = app
        self.store = store
        self.objects = objects
        self.streams = streams

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        from localcloud.moto_server import CallLedger

        service = CallLedger.service(environ)
        operation = CallLedger.operation(environ)
        if service == "dynamodb" and operation in ITEM_WRITES:
            return self._item_write(operation, environ, start_response)
        if operation in CONTROL_OPERATIONS.get(service, ()) or self._bucket_setting(
                service, environ):
            return self._control(service, operation, environ, start_response)
        result = self.app(environ, start_response)
        self.objects.flush()  # what an S3 call put, with the metadata set after the put
        return result

    @staticmethod
    def _bucket_setting(service: str, environ: dict[str, Any]) -> bool:
        """S3 calls on a bucket itself (create, delete, CORS, notifications, policy)."""
        if service != "s3" or environ.get("REQUEST_METHOD") not in ("PUT", "DELETE"):
            return False
        return len([p for p in str(environ.get("PATH_INFO", "")).split("/") if p]) == 1

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return bytes(body)

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any]
                ) -> tuple[bool, Any]:
        statuses: list[str] = []

        def capture(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        return bool(statuses) and statuses[0].startswith("2"), result

    def _control(self, service: str, operation: str, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Any:
        body = self._body(environ)
        ok, result = self._answer(environ, start_response)
        if ok:
            self.store.journal(operation, environ, body)
            if service == "dynamodb" and operation == "DeleteTable":
                self.store.drop_table(_region(environ), orjson.loads(body)["TableName"])
            elif service == "dynamodb" and operation in ("CreateTable", "UpdateTable"):
                self.streams.note_stream(_region(environ), orjson.loads(body)["TableName"])
        return result

    def _item_write(self, operation: str, environ: dict[str, Any],
                    start_response: Callable[..., Any]) -> Any:
        body = self._body(environ)
        ok, result = self._answer(environ, start_response)
        records = self.streams.take()  # a failed write's records were taken back by moto
        if not ok:
            return result
        region = _region(environ)
        backend = dynamodb_backend(region)
        from moto.dynamodb.models.dynamo_type import DynamoType

        with self.store.lock:
            rows = []
            for table_name, attrs in touched_keys(operation, orjson.loads(body)):
                table = backend.tables.get(table_name)
                if table is None or table.hash_key_attr not in attrs:
                    continue
                hk = attrs[table.hash_key_attr]
                rk = attrs.get(table.range_key_attr) if table.range_key_attr else None
                item = table.get_item(DynamoType(hk), DynamoType(rk) if rk else None)
                doc = (orjson.dumps({k: v.to_json() for k, v in item.attrs.items()})
                       if item is not None else None)
                rows.append((region, table_name, key_text(hk), key_text(rk), doc))
            self.store.put_items(rows, records)
        return result


def persistent(app: Callable[..., Any], state: Path) -> tuple[Persistence, str]:
    """`app` (moto, before the server listens) with what `state` keeps restored, wrapped so
    that it keeps what changes from now on; and what was restored, for the log."""
    from localcloud.moto_mail import MailKeeper
    from localcloud.moto_messages import MessageKeeper

    store = StateStore(state / "aws.sqlite")
    mail, streams = MailKeeper(store), StreamKeeper(store)
    mail.install()  # before the replay creates SES's backend
    summary = restore(app, store)
    messages, objects = MessageKeeper(store), ObjectKeeper(store, state / "objects")
    restored = (f"{streams.restore()} stream records, {messages.restore()} messages, "
                f"{objects.restore()} objects, {mail.restore()} sent mails")
    streams.install()
    messages.install()
    objects.install()
    _sweep_every(SWEEP_EVERY_S, messages.sweep, objects.sweep)
    return Persistence(app, store, objects, streams), f"{summary}, {restored}"


def _sweep_every(every_s: float, *sweeps: Callable[[], None]) -> None:
    """Runs the keepers' sweeps in a thread of their own; a failed sweep is logged and the
    next one tries again."""
    def loop() -> None:
        while True:
            time.sleep(every_s)
            for sweep in sweeps:
                try:
                    sweep()
                except Exception as exc:  # the next sweep catches up
                    print(f"state: sweep failed: {type(exc).__name__}: {exc}", flush=True)

    threading.Thread(target=loop, name="state-sweep", daemon=True).start()


def restore(app: Callable[..., Any], store: StateStore) -> str:
    """Replays the journal through `app` and puts the stored items behind each table's lazy
    map. Returns what it restored."""
    replayed = 0
    for kept, body in store.journaled():
        environ: dict[str, Any] = {**kept, "wsgi.input": io.BytesIO(body),
                                   "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
                                   "wsgi.multithread": False, "wsgi.multiprocess": False,
                                   "wsgi.run_once": False}
        statuses: list[str] = []

        def note(status: str, _headers: Any, _exc: Any = None, seen: list[str] = statuses
                 ) -> None:
            seen.append(status)

        for _chunk in app(environ, note):
            pass
        if statuses and not statuses[0].startswith("2"):  # e.g. what a template re-creates
            print(f"state: replaying {kept.get('HTTP_X_AMZ_TARGET') or kept.get('PATH_INFO')}"
                  f" answered {statuses[0]}", flush=True)
        replayed += 1
    restored = 0
    for region, table_name in store.tables():
        table = dynamodb_backend(region).tables.get(table_name)
        if table is None:
            continue
        pending = store.hash_keys(region, table_name)
        table.items = LazyPartitions(table, pending,
                                     functools.partial(store.partition, region, table_name))
        restored += 1
    return f"{replayed} calls replayed, restored: {restored} tables"
