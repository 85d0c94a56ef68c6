"""Tokens and the caller's identity: JWT signing keys, access tokens, request claims."""
