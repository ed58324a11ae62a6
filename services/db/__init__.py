"""Persistence: SQLAlchemy tables, the task state machine, message ↔ row mappers and Alembic migrations.

Modules are imported directly (``services.db.engine``, ``services.db.models``,
``services.db.mappers``, ``services.db.states``); this file re-exports nothing,
so importing the pure ``states`` does not load SQLAlchemy. ``analysis/`` never
imports this package.
"""
