"""Alembic migrations of the shadowqa database; run them with :func:`services.db.engine.upgrade`."""
