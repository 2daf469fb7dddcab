"""Where attachment bytes live: local disk under the data directory, or an S3 bucket.

Both go through ``obstore``. Writes are streamed as multipart uploads of a few
megabytes each, so a large file never sits in memory; an upload whose source fails
is aborted by obstore and leaves no object behind.
"""

import contextlib
import logging
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import anyio
import obstore
import obstore.exceptions
import uuid_utils
from fastapi import Depends, Request
from obstore.store import LocalStore, S3Store

from ticketdesk.config import Settings
from ticketdesk.errors import Unavailable

if TYPE_CHECKING:
    from obstore.store import ClientConfig, ObjectStore, S3Config

log = logging.getLogger(__name__)

KEY_PREFIX = "tickets/"
# S3's smallest part; with two parts in flight an upload holds about 15 MB at most.
PART_BYTES = 5 * 1024 * 1024
PARTS_IN_FLIGHT = 2
READ_CHUNK_BYTES = 256 * 1024
# What a refused upload's Retry-After says when the store itself failed.
STORAGE_RETRY_AFTER_SECONDS = 30
# obstore's local store stages a multipart write as "<key>#<n>" next to the object.
_LOCAL_STAGING = re.compile(r"#\d+$")


def new_key(ticket_id: UUID) -> str:
    """A fresh storage key for a file of ``ticket_id``; never derived from the client's name."""
    return f"{KEY_PREFIX}{ticket_id}/{uuid_utils.uuid7()}"


@dataclass(frozen=True)
class StoredObject:
    """An object being read: its size and its bytes as they arrive."""

    size: int
    chunks: AsyncIterator[bytes]


class AttachmentStorage:
    """The object store attachments are kept in."""

    def __init__(self, store: "ObjectStore", *, local_root: Path | None = None) -> None:
        self._store = store
        self._local_root = local_root

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> None:
        """Store the bytes ``chunks`` yields under ``key``; if it raises, nothing is stored.

        What ``chunks`` raises comes through as it is; the store itself failing (a full
        disk, S3 answering 5xx after obstore's retries) is ``Unavailable``,
        ``storage_unavailable``."""
        try:
            await obstore.put_async(
                self._store, key, chunks, chunk_size=PART_BYTES, max_concurrency=PARTS_IN_FLIGHT
            )
        except (obstore.exceptions.BaseError, OSError) as exc:
            log.warning("could not store attachment object %s: %s", key, _first_line(exc))
            raise Unavailable(
                "The file store cannot take files now; try again later.",
                code="storage_unavailable",
                retry_after=STORAGE_RETRY_AFTER_SECONDS,
            ) from exc

    async def read(self, key: str) -> StoredObject:
        """Open ``key`` for streaming; ``FileNotFoundError`` when it is missing."""
        result = await obstore.get_async(self._store, key)

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in result.stream(min_chunk_size=READ_CHUNK_BYTES):
                yield bytes(chunk)

        return StoredObject(size=result.meta["size"], chunks=chunks())

    async def delete(self, key: str) -> None:
        """Remove ``key``; one that is already gone is fine."""
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self._store, key)

    async def delete_all(self, keys: Iterable[str]) -> int:
        """Remove each of ``keys``; failures are logged, not raised: the orphan sweep retries.

        Returns how many were removed.
        """
        removed = 0
        for key in keys:
            try:
                await self.delete(key)
            except Exception:
                log.warning("could not remove attachment object %s", key, exc_info=True)
            else:
                removed += 1
        return removed

    async def objects(self, prefix: str = KEY_PREFIX) -> AsyncIterator[list[tuple[str, datetime]]]:
        """Every object under ``prefix`` (tickets' files) as ``(key, last_modified)``, in
        batches."""
        async for batch in obstore.list(self._store, prefix=prefix, chunk_size=500):
            yield [(meta["path"], meta["last_modified"]) for meta in batch]

    async def remove_stale_partials(self, cutoff: datetime) -> int:
        """Remove local multipart staging files older than ``cutoff`` (left by a crash)."""
        if self._local_root is None:
            # S3 keeps unfinished multipart uploads out of sight; a bucket lifecycle rule
            # (AbortIncompleteMultipartUpload) expires them.
            return 0
        return await anyio.to_thread.run_sync(_remove_staging_files, self._local_root, cutoff)


def _first_line(exc: BaseException) -> str:
    # obstore's messages go on with a multi-line debug dump of the request.
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _remove_staging_files(root: Path, cutoff: datetime) -> int:
    removed = 0
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if _LOCAL_STAGING.search(name) and path.stat().st_mtime < cutoff.timestamp():
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def open_storage(settings: Settings) -> AttachmentStorage:
    """The configured store: the S3 bucket when one is set, else ``<data_dir>/attachments``."""
    s3 = settings.s3
    if s3.bucket is None:
        root = (settings.data_dir / "attachments").resolve()
        return AttachmentStorage(LocalStore(root, mkdir=True), local_root=root)
    config: S3Config = {"region": s3.region}
    if s3.endpoint is not None:
        config["endpoint"] = str(s3.endpoint).rstrip("/")
    if s3.access_key_id is not None:
        config["access_key_id"] = s3.access_key_id
    if s3.secret_access_key is not None:
        config["secret_access_key"] = s3.secret_access_key.get_secret_value()
    client: ClientConfig = {"allow_http": s3.allow_http}
    return AttachmentStorage(S3Store(s3.bucket, config=config, client_options=client))


async def _storage(request: Request) -> AttachmentStorage:
    storage: AttachmentStorage = request.app.state.storage
    return storage


Storage = Annotated[AttachmentStorage, Depends(_storage)]
