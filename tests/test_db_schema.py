"""The database: migrations match the models, times come back in UTC, leases exclude."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fbs_core.db import repository as repo
from fbs_core.db.migrate import current_revision, head_revision, upgrade
from fbs_core.db.models import Base, InstanceStateRow


def test_migrations_create_exactly_the_schema_the_models_describe(fbs_database):
    with fbs_database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert current_revision(fbs_database) == head_revision()


def test_upgrading_twice_changes_nothing(fbs_database):
    before, after = upgrade(fbs_database)
    assert before == after == head_revision()


def test_every_table_carries_the_merchant():
    for table in Base.metadata.sorted_tables:
        assert "merchant_id" in table.columns, table.name


def test_two_workers_never_hold_the_same_poll(fbs_database):
    now = datetime.now(UTC)
    lease = timedelta(seconds=60)
    names = [("channel", "shop")]
    with fbs_database.transaction() as session:
        repo.ensure_instances(session, "m1", names, now)
    with fbs_database.transaction() as session:
        first = repo.claim_due_instances(session, "m1", "worker-a", now, lease, names, limit=5)
    with fbs_database.transaction() as session:
        second = repo.claim_due_instances(session, "m1", "worker-b", now, lease, names, limit=5)
    with fbs_database.transaction() as session:
        after_expiry = repo.claim_due_instances(
            session, "m1", "worker-b", now + lease, lease, names, limit=5
        )
        state = session.get(InstanceStateRow, after_expiry[0].id)
        assert state.lease_until.tzinfo is not None

    assert [s.name for s in first] == ["shop"]
    assert second == []
    assert [s.lease_owner for s in after_expiry] == ["worker-b"]  # a crashed poller is taken over
