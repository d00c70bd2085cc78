"""Storage: one async engine and session factory per process, Alembic migrations.

SQLite (a file in the data directory, WAL mode, foreign keys on) by default; PostgreSQL when
``JISR_DATABASE_URL`` names one. Each component owns its tables and its migration history
(its own Alembic version table), so several components can share one PostgreSQL database.
"""

from jisr.storage.engine import Database, create_engine, normalise_url
from jisr.storage.migrate import upgrade
from jisr.storage.types import UTCDateTime, utcnow

__all__ = ["Database", "UTCDateTime", "create_engine", "normalise_url", "upgrade", "utcnow"]
