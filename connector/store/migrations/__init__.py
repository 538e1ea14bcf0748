"""Alembic migrations of the state store; run them through :mod:`connector.store.migrate`."""
