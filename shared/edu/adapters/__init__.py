"""Adapters to the outside world (DynamoDB, PostgreSQL, Redis, S3, SQS, ...).

Domain code receives these through the registry; it never imports an SDK itself.
"""
