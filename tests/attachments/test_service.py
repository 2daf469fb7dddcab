"""The orphan sweep: objects no row names are removed once they are old enough."""

import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.attachments.conftest import Leftovers
from tests.attachments.samples import PNG
from tests.factories import Accounts
from ticketdesk.attachments import service
from ticketdesk.attachments.storage import AttachmentStorage, new_key, open_storage
from ticketdesk.config import load_settings
from ticketdesk.db import Connection
from ticketdesk.ticket_detail import TicketDetail


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _stored_key(conn: Connection) -> str:
    cur = await conn.execute("select storage_key from attachments")
    row = await cur.fetchone()
    assert row is not None
    return str(row["storage_key"])


@pytest.mark.both_stores
class TestRemoveOrphans:
    async def test_old_object_without_a_row_removed(
        self,
        accounts: Accounts,
        conn: Connection,
        ticket: TicketDetail,
        storage: AttachmentStorage,
        leftovers: Leftovers,
    ) -> None:
        response = await accounts.alice.client.post(
            f"/api/v1/tickets/{ticket.id}/attachments",
            files=[("files", ("a.png", PNG, "image/png"))],
        )
        assert response.status_code == 201
        await storage.write(new_key(ticket.id), _once(b"left behind by a crash"))

        removed = await service.remove_orphans(conn, storage, older_than=timedelta(0))

        assert removed == 1
        assert await leftovers() == [await _stored_key(conn)]
        download = await accounts.alice.client.get(response.json()[0]["download_url"])
        assert download.content == PNG

    async def test_young_object_kept(
        self,
        conn: Connection,
        ticket: TicketDetail,
        storage: AttachmentStorage,
        leftovers: Leftovers,
    ) -> None:
        key = new_key(ticket.id)
        await storage.write(key, _once(b"an upload about to be recorded"))

        removed = await service.remove_orphans(conn, storage)

        assert removed == 0
        assert await leftovers() == [key]


async def test_stale_local_staging_files_removed(conn: Connection, tmp_path: Path) -> None:
    storage = open_storage(load_settings(data_dir=tmp_path))
    folder = tmp_path / "attachments" / "tickets" / str(uuid.uuid4())
    folder.mkdir(parents=True)
    stale, fresh = folder / "crashed#3", folder / "in-progress#1"
    stale.write_bytes(b"part of a file")
    fresh.write_bytes(b"part of a file")
    two_days_ago = time.time() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))

    removed = await service.remove_orphans(conn, storage)

    assert removed == 1
    assert not stale.exists()
    assert fresh.exists()
