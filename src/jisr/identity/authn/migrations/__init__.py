"""Alembic migrations of authentication."""
