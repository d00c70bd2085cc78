"""Alembic migrations of the population register."""
