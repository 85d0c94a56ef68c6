"""S3 objects kept across restarts of the local AWS endpoint, as files on disk.

Every object write in moto goes through `S3Backend.put_object` (PutObject, browser form
uploads, CopyObject, CompleteMultipartUpload); the call's object is noted there and written
(its bytes copied from moto's spooled buffer in chunks, its metadata pickled beside) once the
request is done, before its answer is sent: metadata such as Content-Type is set on the
object after `put_object` returns. Objects that left their bucket (deleted, replaced, their
bucket gone) are forgotten by a sweep once a second, so after a `kill -9` an object deleted
in the last second may come back. Only the current version of a key is kept.

At start each object's bytes go into a temp file that moto's key reads from, so a 200 MB
video is not held in memory to restore it.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from localcloud.moto_state import StateStore

_UNPICKLED = ("_value_buffer", "lock")  # a spooled temp file and a lock: made anew
_local = threading.local()


def _s3_backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


class ObjectKeeper:
    def __init__(self, store: StateStore, directory: Path) -> None:
        self.store = store
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.kept: dict[tuple[str, str], Any] = {}  # (bucket, key) -> the FakeKey on disk
        self.guard = threading.Lock()

    def install(self) -> None:
        from moto.s3.models import S3Backend

        put_object = S3Backend.put_object

        def put_and_note(backend: Any, *args: Any, **kwargs: Any) -> Any:
            key = put_object(backend, *args, **kwargs)
            if not hasattr(_local, "written"):
                _local.written = []
            _local.written.append(key)
            return key

        S3Backend.put_object = put_and_note  # type: ignore[method-assign,assignment]

    def flush(self) -> None:
        """Writes the objects this thread's request put (called before it is answered)."""
        written = getattr(_local, "written", None)
        if not written:
            return
        _local.written = []
        for key in written:
            self.keep(key)

    def keep(self, key: Any) -> None:
        name = uuid.uuid4().hex
        with key.lock, (self.directory / name).open("wb") as out:
            key._value_buffer.seek(0)
            shutil.copyfileobj(key._value_buffer, out, 1 << 20)
        meta = pickle.dumps({k: v for k, v in key.__dict__.items() if k not in _UNPICKLED},
                            protocol=pickle.HIGHEST_PROTOCOL)
        replaced = self.store.put_object(key.bucket_name, key.name, name, meta)
        if replaced:
            (self.directory / replaced).unlink(missing_ok=True)
        with self.guard:
            self.kept[(key.bucket_name, key.name)] = key

    def restore(self) -> int:
        """Puts the kept objects back in their buckets; returns how many."""
        from moto.s3.models import FakeKey

        buckets = _s3_backend().buckets
        restored = 0
        for bucket_name, key_name, file, meta in self.store.objects():
            bucket = buckets.get(bucket_name)
            path = self.directory / file
            if bucket is None or not path.exists():
                self._forget(bucket_name, key_name)
                continue
            key: Any = FakeKey.__new__(FakeKey)
            key.__dict__.update(pickle.loads(meta))  # our own file, written by keep()
            key.lock = threading.Lock()
            # as moto makes it: small objects in memory, big ones in a temp file; the key
            # owns it from here
            key._value_buffer = tempfile.SpooledTemporaryFile(key._max_buffer_size)  # noqa: SIM115
            with path.open("rb") as source:
                shutil.copyfileobj(source, key._value_buffer, 1 << 20)
            bucket.keys[key_name] = key
            self.kept[(bucket_name, key_name)] = key
            restored += 1
        return restored

    def _forget(self, bucket: str, key: str) -> None:
        file = self.store.drop_object(bucket, key)
        if file:
            (self.directory / file).unlink(missing_ok=True)

    def sweep(self) -> None:
        """Forgets the objects no bucket holds any more."""
        buckets = _s3_backend().buckets
        with self.guard:
            kept = list(self.kept.items())
        for (bucket_name, key_name), key in kept:
            bucket = buckets.get(bucket_name)
            current = bucket.keys.get(key_name) if bucket is not None else None
            if current is key:
                continue
            with self.guard:
                if self.kept.get((bucket_name, key_name)) is not key:
                    continue  # written anew meanwhile
                del self.kept[(bucket_name, key_name)]
            if current is None:
                self._forget(bucket_name, key_name)
