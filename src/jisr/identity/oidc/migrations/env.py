"""Alembic environment of the OpenID Connect provider."""

from typing import cast

from alembic import context
from alembic.runtime.environment import EnvironmentContext

from jisr.identity.oidc.models import Base
from jisr.storage.migrate import run_migrations

# alembic.context is a module proxying the active EnvironmentContext.
run_migrations(cast(EnvironmentContext, context), Base.metadata)
