"""procrastinate's schema, as our migrations apply it."""

import re
from importlib import resources

import procrastinate

from ticketdesk import db


def _shipped_migrations() -> list[str]:
    folder = resources.files("procrastinate") / "sql" / "migrations"
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sql"))


def test_every_procrastinate_migration_is_covered() -> None:
    """Fails when procrastinate is upgraded without a migration bringing its schema along."""
    ours = "\n".join(sql for _, sql in db.migration_files())
    [covered_up_to] = re.findall(r"^-- procrastinate covers up to: (\S+)$", ours, re.MULTILINE)
    copied = set(re.findall(r"^-- procrastinate migration: (\S+)$", ours, re.MULTILINE))

    missing = [
        name for name in _shipped_migrations() if name > covered_up_to and name not in copied
    ]

    assert covered_up_to in _shipped_migrations()
    assert missing == []


async def test_procrastinate_accepts_the_migrated_database(database_url: str) -> None:
    queue = procrastinate.App(connector=procrastinate.PsycopgConnector())
    pool = await db.open_pool(database_url, min_size=1, max_size=2)
    try:
        async with queue.open_async(pool):
            assert await queue.check_connection_async()
            assert list(await queue.job_manager.list_jobs_async()) == []
    finally:
        await pool.close()
