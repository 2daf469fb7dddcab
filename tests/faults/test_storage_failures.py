"""The attachment store failing in the middle of an upload: a disk that fills up, an S3
that answers 500.

Each upload is refused with a clean 503 ``storage_unavailable`` (a problem document with
``Retry-After``), no row and no event is written, nothing is left in the store (no
object, no staging file, no unfinished multipart upload), and the orphan sweep finds
nothing either. Once the store works again, so do uploads.
"""

import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.attachments.conftest import S3_KEY, S3_REGION, S3_SECRET, moto_endpoint
from tests.attachments.samples import LOG
from tests.factories import Accounts, create_ticket
from tests.faults.cluster import alive
from tests.mailservers import free_port
from ticketdesk.attachments import service
from ticketdesk.config import Settings, load_settings
from ticketdesk.db import Connection

__all__ = ["moto_endpoint"]  # the attachment suite's S3 server serves here too

pytestmark = pytest.mark.xdist_group("faults")

MIB = 1024 * 1024
DISK_PREFIX = "ticketdesk-test-disk-"
# A store of 1 MiB; the file is larger: the disk fills up while it is written.
DISK_BYTES = MIB
# Larger than one multipart part (5 MiB): the first part is stored, the second fails.
S3_FILE_BYTES = 6 * MIB
S3_INTERNAL_ERROR = (
    b"<Error><Code>InternalError</Code>"
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)


def _log_of(size: int) -> bytes:
    return (LOG * (size // len(LOG) + 1))[:size]


async def _upload(client: httpx.AsyncClient, ticket_id: object, name: str, data: bytes) -> Any:
    files = {"files": (name, data, "text/plain")}
    return await client.post(f"/api/v1/tickets/{ticket_id}/attachments", files=files)


async def _stored_nothing(conn: Connection) -> None:
    rows = await conn.execute("select count(*) as n from attachments")
    assert (await rows.fetchone()) == {"n": 0}
    events = await conn.execute(
        "select count(*) as n from ticket_events where kind = 'attachment_added'"
    )
    assert (await events.fetchone()) == {"n": 0}


def _refused_cleanly(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["code"] == "storage_unavailable"


def _unmount_abandoned() -> None:
    """Unmount the disks of test runs killed before they could (their process is gone)."""
    abandoned = re.compile(rf"^\S+ (/tmp/{DISK_PREFIX}(\d+)-\S+) tmpfs ")
    for line in Path("/proc/self/mounts").read_text().splitlines():
        if (found := abandoned.match(line)) and not alive(int(found[2])):
            subprocess.run(["umount", "-l", found[1]], check=False)
            Path(found[1]).rmdir()


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 1 MiB tmpfs of the test's own (mounting needs root, as the suite runs in CI)."""
    _unmount_abandoned()
    mountpoint = Path(tempfile.mkdtemp(prefix=f"{DISK_PREFIX}{os.getpid()}-", dir="/tmp"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.fail(f"a full disk is a 1 MiB tmpfs, which needs root: {mounted.stderr}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)
        mountpoint.rmdir()


class TestDiskFull:
    @pytest.fixture
    def settings(self, database_url: str, small_disk: Path) -> Settings:
        return load_settings(
            database_url=database_url,
            data_dir=small_disk,
            secret_key="test-secret-key-that-is-long-enough-0123456789",
            tickets={"max_attachment_size_mb": 4},
        )

    async def test_upload_refused_and_nothing_left(
        self, app: FastAPI, accounts: Accounts, conn: Connection, small_disk: Path
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)

        response = await _upload(accounts.alice.client, ticket.id, "big.log", _log_of(2 * MIB))

        _refused_cleanly(response)
        await _stored_nothing(conn)
        store = app.state.storage
        assert await service.remove_orphans(conn, store, older_than=timedelta(0)) == 0
        assert [p for p in (small_disk / "attachments").rglob("*") if p.is_file()] == []
        # The disk has room for a small file: uploads work again.
        small = await _upload(accounts.alice.client, ticket.id, "small.log", LOG)
        assert small.status_code == 201, small.text


class FailingS3:
    """A proxy in front of moto that answers 500 to the second part of every multipart
    upload, as an S3 having trouble does, and forwards everything else."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.refused = 0
        routes = [
            Route("/{path:path}", self._forward, methods=["GET", "PUT", "POST", "DELETE", "HEAD"])
        ]
        config = uvicorn.Config(Starlette(routes=routes), port=self.port, log_config=None)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "FailingS3":
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join()

    async def _forward(self, request: Request) -> Response:
        if request.method == "PUT" and request.query_params.get("partNumber") == "2":
            await request.body()
            self.refused += 1
            return Response(S3_INTERNAL_ERROR, status_code=500, media_type="application/xml")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with httpx.AsyncClient() as client:
            answer = await client.request(
                request.method,
                f"{self.upstream}{request.url.path}",
                params=request.query_params.multi_items(),
                headers=headers,
                content=await request.body(),
            )
        dropped = {"content-length", "transfer-encoding", "connection", "content-encoding"}
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in dropped}
        return Response(answer.content, status_code=answer.status_code, headers=kept)


class TestS3Fails:
    @pytest.fixture
    def s3(self, moto_endpoint: str) -> Iterator[FailingS3]:
        with FailingS3(moto_endpoint) as proxy:
            yield proxy

    @pytest.fixture
    def bucket(self, moto_endpoint: str) -> tuple[Any, str]:
        client = boto3.client(
            "s3",
            endpoint_url=moto_endpoint,
            region_name=S3_REGION,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
        )
        name = f"faults-{free_port()}"
        client.create_bucket(Bucket=name)
        return client, name

    @pytest.fixture
    def settings_overrides(self, s3: FailingS3, bucket: tuple[Any, str]) -> dict[str, Any]:
        return {
            "tickets": {"max_attachment_size_mb": 8},
            "s3": {
                "bucket": bucket[1],
                "endpoint": s3.url,
                "region": S3_REGION,
                "access_key_id": S3_KEY,
                "secret_access_key": S3_SECRET,
                "allow_http": True,
            },
        }

    async def test_upload_refused_and_nothing_left(
        self,
        app: FastAPI,
        accounts: Accounts,
        conn: Connection,
        s3: FailingS3,
        bucket: tuple[Any, str],
    ) -> None:
        client, name = bucket
        ticket = await create_ticket(conn, accounts.alice)

        response = await _upload(
            accounts.alice.client, ticket.id, "big.log", _log_of(S3_FILE_BYTES)
        )

        _refused_cleanly(response)
        assert s3.refused >= 1
        await _stored_nothing(conn)
        assert client.list_objects_v2(Bucket=name).get("Contents", []) == []
        assert client.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
        store = app.state.storage
        assert await service.remove_orphans(conn, store, older_than=timedelta(0)) == 0
        # A file of one part never meets the failing part: uploads go on.
        small = await _upload(accounts.alice.client, ticket.id, "small.log", LOG)
        assert small.status_code == 201, small.text
