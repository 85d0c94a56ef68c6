"""Teacher API keys: created by a teacher, shown once, stored hashed, scoped, revocable."""
