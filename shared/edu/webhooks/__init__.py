"""Outbound webhooks: teachers subscribe a URL to events; deliveries are signed, retried
with backoff over hours, logged, and a failing endpoint is disabled with an email."""
