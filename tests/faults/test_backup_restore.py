"""Backup and restore, as the README describes it: ``pg_dump`` of the database and a copy
of the attachment store, restored into a new database and a new data directory.

A second ticketdesk on the restored copy shows every ticket, comment (internal notes
included, to staff) and file, and each file downloads byte-identical; the people and
their access tokens are restored with them.
"""

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from httpx import ASGITransport, AsyncClient
from pgserver._commands import POSTGRES_BIN_PATH

from tests.attachments.samples import LOG, PNG
from tests.factories import Accounts, ticket_body
from ticketdesk.app import create_app
from ticketdesk.config import Settings

pytestmark = pytest.mark.xdist_group("faults")

FILES = [("screen.png", PNG, "image/png"), ("export.log", LOG * 300, "text/plain")]


def pg_tool(name: str, dsn: str) -> str:
    """The PostgreSQL client program ``name`` of the server's own major version: Debian's
    when installed, else the one pgserver ships (the embedded server's)."""
    with psycopg.connect(dsn) as conn:
        major = conn.info.server_version // 10000
    debian = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    return str(debian if debian.exists() else POSTGRES_BIN_PATH / name)


async def _snapshot(client: AsyncClient) -> dict[str, Any]:
    """Every ticket the client sees, with its comments and files (and their bytes)."""
    seen: dict[str, Any] = {}
    listing = await client.get("/api/v1/tickets", params={"limit": 100})
    assert listing.status_code == 200, listing.text
    for ticket in listing.json()["items"]:
        base = f"/api/v1/tickets/{ticket['id']}"
        comments = (await client.get(f"{base}/comments")).json()
        files = {}
        for item in (await client.get(f"{base}/attachments")).json():
            download = await client.get(f"{base}/attachments/{item['id']}/download")
            assert download.status_code == 200, download.text
            files[item["filename"]] = download.content
        seen[ticket["id"]] = {
            "ticket": (await client.get(base)).json(),
            "comments": [(c["id"], c["body"], c["is_internal"]) for c in comments],
            "files": files,
        }
    return seen


async def test_restored_copy_has_every_ticket_comment_and_file(
    accounts: Accounts, settings: Settings, empty_database: str, tmp_path: Path
) -> None:
    agent = accounts.agent.client
    for n in range(2):
        response = await accounts.alice.client.post(
            "/api/v1/tickets", json=ticket_body(title=f"Backed up {n}")
        )
        assert response.status_code == 201, response.text
        ticket_id = response.json()["id"]
        base = f"/api/v1/tickets/{ticket_id}"
        assert (
            await agent.post(f"{base}/comments", json={"comment": "A reply"})
        ).status_code == 201
        note = {"comment": "Staff only", "is_internal": True}
        assert (await agent.post(f"{base}/comments", json=note)).status_code == 201
        uploaded = await accounts.alice.client.post(
            f"{base}/attachments", files=[("files", spec) for spec in FILES]
        )
        assert uploaded.status_code == 201, uploaded.text
    before = await _snapshot(agent)

    # The backup: the database, then the store (files newer than the dump are orphans
    # the sweep removes; a row whose file is missing would not be).
    assert settings.database_url is not None
    dump = tmp_path / "ticketdesk.dump"
    await asyncio.to_thread(
        subprocess.run,
        [pg_tool("pg_dump", settings.database_url), "--format=custom", f"--file={dump}",
         f"--dbname={settings.database_url}"],
        check=True,
    )  # fmt: skip
    store = tmp_path / "attachments-backup"
    shutil.copytree(settings.data_dir / "attachments", store)

    # The restore, into a new database and a new data directory.
    await asyncio.to_thread(
        subprocess.run,
        [pg_tool("pg_restore", empty_database), "--no-owner", f"--dbname={empty_database}",
         str(dump)],
        check=True,
    )  # fmt: skip
    restored = settings.model_copy(
        update={"database_url": empty_database, "data_dir": tmp_path / "restored"}
    )
    shutil.copytree(store, restored.data_dir / "attachments")

    application = create_app(restored)
    async with application.router.lifespan_context(application):
        token = agent.headers["Authorization"]
        async with AsyncClient(
            transport=ASGITransport(app=application),
            base_url="http://testserver",
            headers={"Authorization": token},
        ) as restored_agent:
            after = await _snapshot(restored_agent)

    assert len(before) == 2
    assert after == before
    assert all(set(t["files"]) == {name for name, _, _ in FILES} for t in after.values())
    assert all(t["files"]["export.log"] == LOG * 300 for t in after.values())
    assert all(len(t["comments"]) == 2 for t in after.values())
