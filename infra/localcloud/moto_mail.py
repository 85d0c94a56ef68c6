"""SES's sent mail kept across restarts of the local endpoint (the local mail viewer shows
what moto holds, and a student's welcome mail should not vanish with a restart)."""

from __future__ import annotations

import pickle
from typing import Any

from localcloud.moto_state import StateStore


class KeptMail(list[Any]):
    """A region's sent messages: each one is stored as it is sent."""

    def __init__(self, store: StateStore, region: str) -> None:
        super().__init__()
        self.store = store
        self.region = region

    def append(self, message: Any) -> None:
        self.store.put_mail(self.region, pickle.dumps(message))
        super().append(message)


class MailKeeper:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    def install(self) -> None:
        """Before anything creates an SES backend (replaying the journal does)."""
        from moto.ses.models import SESBackend

        init = SESBackend.__init__
        store = self.store

        def init_kept(backend: Any, region_name: str, account_id: str) -> None:
            init(backend, region_name, account_id)
            backend.sent_messages = KeptMail(store, region_name)

        SESBackend.__init__ = init_kept  # type: ignore[method-assign,assignment]

    def restore(self) -> int:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        kept = self.store.mail()
        for region, doc in kept:
            # trusted: written by this endpoint into its own state directory
            list.append(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages,
                        pickle.loads(doc))
        return len(kept)
