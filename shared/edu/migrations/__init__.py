"""Numbered SQL migrations of the PostgreSQL schema (edu.adapters.migrations applies them)."""
