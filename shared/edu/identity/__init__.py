"""Identity: registration, login, tokens, teacher verification (domain; no SDK imports)."""
