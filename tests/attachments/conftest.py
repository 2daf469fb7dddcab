"""Attachment tests run on local disk; those marked ``both_stores`` run on S3 as well.

The S3 server is moto in server mode on 127.0.0.1 (a random port), reached over plain
HTTP exactly as a self-hosted MinIO would be; each S3 run gets a bucket of its own. The
test id names the store: ``test_valid[local]``, ``test_valid[s3]``.

A test runs on both stores when its outcome depends on what the store does:

- streaming a file in and listing the objects (``TestUpload::test_valid``);
- an upload that fails after writing began leaving nothing behind, neither objects nor
  unfinished multipart uploads nor staging files: a file cut off mid-write
  (``test_file_over_the_limit``), complete files removed again when a later part is
  refused (``test_too_many_files``, ``test_one_bad_file_refuses_the_batch``), and every
  way an upload can break off (``TestNeverHalfStored``);
- reading the bytes back, in one chunk and in several (``test_headers_and_bytes``,
  ``test_large_file_streams_whole``);
- deleting an object (``test_uploader_within_the_window``);
- the orphan sweep, which lists the store and deletes from it (``TestRemoveOrphans``).

Everything else runs once, on disk: validation of the form, limits, sniffing refusals,
permissions, settings and headers taken from the row. Each of those is decided before or
regardless of the store, and the store's side of a refused write (the same aborted
upload whatever the reason) is covered by the tests above.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from moto.server import ThreadedMotoServer

from tests.factories import Accounts, create_ticket
from ticketdesk.attachments.storage import AttachmentStorage
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.ticket_detail import TicketDetail

S3_KEY = "test-key"
S3_SECRET = "test-secret"
S3_REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server on a random local port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket of one test and a boto3 client to look inside it."""

    name: str
    client: Any

    def pending_multipart_uploads(self) -> list[str]:
        """Keys of multipart uploads that were started and neither completed nor aborted."""
        listing = self.client.list_multipart_uploads(Bucket=self.name)
        return [upload["Key"] for upload in listing.get("Uploads", [])]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test that uses a store on local disk, and on S3 too when marked ``both_stores``."""
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_stores") is not None
        metafunc.parametrize("backend", ["local", "s3"] if both else ["local"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Which store this run of the test uses."""
    return str(request.param)


@pytest.fixture
def bucket(backend: str, request: pytest.FixtureRequest) -> Bucket | None:
    """A fresh bucket on the moto server for S3 runs; None for local disk."""
    if backend != "s3":
        return None
    import boto3

    endpoint: str = request.getfixturevalue("moto_endpoint")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
    )
    name = f"attachments-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return Bucket(name=name, client=client)


@pytest.fixture
def tickets_settings() -> dict[str, Any]:
    """The ``tickets`` section for a test; a class may override this fixture."""
    return {"max_attachment_size_mb": 1}


@pytest.fixture
def settings_overrides(
    bucket: Bucket | None, tickets_settings: dict[str, Any], request: pytest.FixtureRequest
) -> dict[str, Any]:
    """The tickets section, plus the S3 store when this run uses it."""
    overrides: dict[str, Any] = {"tickets": tickets_settings}
    if bucket is not None:
        overrides["s3"] = {
            "bucket": bucket.name,
            "endpoint": request.getfixturevalue("moto_endpoint"),
            "region": S3_REGION,
            "access_key_id": S3_KEY,
            "secret_access_key": S3_SECRET,
            "allow_http": True,
        }
    return overrides


@pytest.fixture
def storage(app: FastAPI) -> AttachmentStorage:
    """The store the app writes attachments to."""
    store: AttachmentStorage = app.state.storage
    return store


Leftovers = Callable[[], Awaitable[list[str]]]


@pytest.fixture
def leftovers(storage: AttachmentStorage, settings: Settings, bucket: Bucket | None) -> Leftovers:
    """Everything an upload may have left in storage: objects, staging files, open uploads."""

    async def find() -> list[str]:
        found = [key async for batch in storage.objects() for key, _ in batch]
        if bucket is not None:
            found += [f"pending:{key}" for key in bucket.pending_multipart_uploads()]
        else:
            root = settings.data_dir / "attachments"
            on_disk = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
            found += [f"file:{name}" for name in on_disk if name not in found]
        return sorted(found)

    return find


@pytest.fixture
async def ticket(conn: Connection, accounts: Accounts) -> TicketDetail:
    """A ticket Alice opened."""
    return await create_ticket(conn, accounts.alice)


@pytest.fixture
async def tolerant(app: FastAPI, accounts: Accounts) -> AsyncIterator[AsyncClient]:
    """Alice's client that receives a 500 as a response, as a real client would."""
    headers = {"Authorization": accounts.alice.client.headers["Authorization"]}
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as c:
        yield c
