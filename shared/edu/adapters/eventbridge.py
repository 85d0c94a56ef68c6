"""Publishes domain events to the EventBridge bus (detail = the envelope)."""

from __future__ import annotations

from typing import Any

from edu.events import Envelope

PUT_EVENTS_LIMIT = 10  # entries per PutEvents call


class PublishFailed(Exception):
    pass


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self.client = client
        self.bus_name = bus_name

    def publish(self, events: list[Envelope]) -> None:
        for start in range(0, len(events), PUT_EVENTS_LIMIT):
            batch = events[start:start + PUT_EVENTS_LIMIT]
            resp = self.client.put_events(Entries=[
                {"Source": e.source, "DetailType": e.type, "Detail": e.model_dump_json(),
                 "EventBusName": self.bus_name} for e in batch])
            if resp.get("FailedEntryCount"):
                failed = [r for r in resp["Entries"] if r.get("ErrorCode")]
                raise PublishFailed(f"{len(failed)} events were not accepted: {failed[:3]}")
