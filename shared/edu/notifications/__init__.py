"""Notifications: event-driven emails rendered from templates (text + HTML)."""
