"""What a queue consumer's record handler raises to say when its record should come back.

Plain exceptions, no AWS: domain services raise them (a transcode that broke, a webhook
target that did not answer) and the SQS consumer shape (`edu.adapters.sqs_backoff.consume`)
turns them into a partial batch response and the message's visibility delay."""

from __future__ import annotations


class RetryLater(Exception):
    """The record failed this time; bring it back after `delay_s` seconds (None: after the
    consumer's doubling backoff for its receive count)."""

    def __init__(self, reason: str, delay_s: int | None = None) -> None:
        super().__init__(reason)
        self.delay_s = delay_s


class GaveUp(Exception):
    """The last attempt failed: bring the record back at once, so the queue's redrive policy
    moves it to the DLQ without waiting for a visibility timeout."""
