"""Reading replies from an IMAP mailbox (``imap_url``), in the worker.

Each round fetches the unseen messages, takes each in (``service.receive``) in a
transaction of its own, and marks it ``\\Seen`` only once that transaction committed:
a worker that dies in between leaves the message unseen, and the next round (of any
worker) finds it already taken. While the database cannot be reached nothing is
marked, so nothing is lost. Any other error is the message's own: it is marked seen
and logged (``service.receive`` keeps even an unreadable message, so this is a last
resort), and the round goes on. Between rounds the poller waits in IMAP IDLE when the
server offers it, else it polls; after an error it reconnects, waiting longer each
time it fails again (up to five minutes).

IMAPClient is synchronous: each connection's calls run in a thread of its own, in turn.
"""

import asyncio
import contextlib
import functools
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import imapclient
import psycopg
from imapclient.exceptions import IMAPClientError, LoginError
from psycopg_pool import AsyncConnectionPool

from ticketdesk import db
from ticketdesk.attachments.storage import AttachmentStorage
from ticketdesk.config import ImapTarget, Settings
from ticketdesk.errors import database_unavailable
from ticketdesk.mailbox import service

log = logging.getLogger(__name__)

T = TypeVar("T")


class _NoTranscript(logging.Filter):
    """Drops IMAPClient's transcript of the IMAP conversation, which it logs at DEBUG: it
    carries whole mails, their signed reply addresses among them. What the poller does
    is logged by the poller."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never keep a transcript line."""
        return False


_transcript = logging.getLogger("imapclient.imaplib")
if not any(isinstance(f, _NoTranscript) for f in _transcript.filters):
    _transcript.addFilter(_NoTranscript())

# Without IDLE, how often the mailbox is looked at; with it, how long one IDLE lasts
# before it is renewed and the mailbox searched again (servers may end an IDLE after 30
# minutes, and a NAT may drop a connection quiet for long).
POLL_SECONDS = 60.0
IDLE_SECONDS = 5 * 60.0
# How long one wait inside IDLE blocks its thread: a stopping worker waits no longer.
IDLE_CHECK_SECONDS = 2.0
# After an error the poller waits, twice as long each time it fails again, up to the cap.
RECONNECT_SECONDS = 5.0
MAX_RECONNECT_SECONDS = 300.0
TIMEOUT_SECONDS = 30.0
# Errors of the mailbox or the network: the poller says so and tries again later.
MAILBOX_ERRORS = (IMAPClientError, OSError, ssl.SSLError, socket.timeout)


class _Connection:
    """One IMAP connection; its calls run one after another in a thread of its own.

    A cancelled call goes on in that thread until it ends (within the socket timeout,
    an IDLE wait within ``IDLE_CHECK_SECONDS``), and later calls queue behind it, so
    two never overlap on the connection.
    """

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imap")
        self.client: imapclient.IMAPClient | None = None

    async def call(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, functools.partial(function, *args)
        )

    def _open(self, target: ImapTarget) -> None:
        client = imapclient.IMAPClient(
            target.host, port=target.port, ssl=target.use_tls, timeout=TIMEOUT_SECONDS
        )
        try:
            client.login(target.username, target.password)
            client.select_folder(target.folder)
        except BaseException:
            client.shutdown()
            raise
        self.client = client

    def _close(self) -> None:
        if self.client is None:
            return
        try:
            self.client.logout()
        except MAILBOX_ERRORS:
            self.client.shutdown()

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(cls, target: ImapTarget) -> AsyncIterator["_Connection"]:
        """A logged-in connection with ``target``'s folder selected, logged out after."""
        connection = cls()
        try:
            await connection.call(connection._open, target)
            assert connection.client is not None
            yield connection
        finally:
            # Shielded: a cancelled poller still says goodbye to the server.
            await asyncio.shield(connection.call(connection._close))
            connection._thread.shutdown(wait=False)


async def _take_in(
    connection: _Connection,
    pool: AsyncConnectionPool,
    storage: AttachmentStorage,
    settings: Settings,
) -> tuple[int, int]:
    """Take in every unseen message; return how many were marked seen, and how many of
    them were new to ticketdesk."""
    client = connection.client
    assert client is not None
    seen = new = 0
    limit = service.max_mail_bytes(settings)
    for uid in await connection.call(client.search, ["UNSEEN"]):
        # The size and the headers first: a mail too large is never read whole.
        fetched = await connection.call(client.fetch, [uid], ["RFC822.SIZE", "BODY.PEEK[HEADER]"])
        size = fetched.get(uid, {}).get(b"RFC822.SIZE")
        headers = fetched.get(uid, {}).get(b"BODY[HEADER]")
        if not isinstance(size, int) or not isinstance(headers, bytes):
            continue  # expunged by someone else meanwhile
        raw = None
        if size <= limit:
            fetched = await connection.call(client.fetch, [uid], ["BODY.PEEK[]"])
            raw = fetched.get(uid, {}).get(b"BODY[]")
            if not isinstance(raw, bytes):
                continue
        try:
            async with db.transaction(pool) as conn:
                if raw is None:
                    delivery = await service.receive_too_large(
                        conn, settings, headers, size, source="imap"
                    )
                else:
                    delivery = await service.receive(conn, storage, settings, raw, source="imap")
        except Exception as exc:
            if database_unavailable(exc):
                raise  # nothing is marked: the next round takes it in
            # Never one message blocking all later ones: it stays in the mailbox, seen.
            log.exception("mail UID %s cannot be taken in; marked seen and left there", uid)
            await connection.call(client.add_flags, [uid], [imapclient.SEEN])
            seen += 1
            continue
        await connection.call(client.add_flags, [uid], [imapclient.SEEN])
        seen += 1
        if not delivery.duplicate:
            new += 1
            log.info(
                "mail from %s: %s%s",
                delivery.mail.sender or "(no sender)",
                delivery.mail.status,
                f" ({delivery.mail.reason})" if delivery.mail.reason else "",
            )
    return seen, new


async def _take_in_all(
    connection: _Connection,
    pool: AsyncConnectionPool,
    storage: AttachmentStorage,
    settings: Settings,
) -> int:
    """Take in unseen messages until a search finds none: mail that arrived during a
    round is not left waiting for the next change of the mailbox."""
    new = 0
    while True:
        seen, round_new = await _take_in(connection, pool, storage, settings)
        new += round_new
        if not seen:
            return new


async def poll_once(
    target: ImapTarget, pool: AsyncConnectionPool, storage: AttachmentStorage, settings: Settings
) -> int:
    """One round: connect, take in the unseen messages, log out."""
    async with _Connection.opened(target) as connection:
        return await _take_in_all(connection, pool, storage, settings)


async def _idle(connection: _Connection, seconds: float) -> None:
    """Wait in IDLE until the mailbox changes or ``seconds`` pass."""
    client = connection.client
    assert client is not None
    await connection.call(client.idle)
    try:
        waited = 0.0
        # In short steps, so that a stopping worker is not held up for long.
        while waited < seconds:
            if await connection.call(client.idle_check, IDLE_CHECK_SECONDS):
                return
            waited += IDLE_CHECK_SECONDS
    finally:
        await asyncio.shield(connection.call(client.idle_done))


async def _wait(connection: _Connection, *, poll_seconds: float) -> None:
    client = connection.client
    assert client is not None
    if b"IDLE" in await connection.call(client.capabilities):
        await _idle(connection, IDLE_SECONDS)
    else:
        await asyncio.sleep(poll_seconds)
        await connection.call(client.noop)


async def run_poller(
    target: ImapTarget,
    pool: AsyncConnectionPool,
    storage: AttachmentStorage,
    settings: Settings,
    *,
    poll_seconds: float = POLL_SECONDS,
    reconnect_seconds: float = RECONNECT_SECONDS,
) -> None:
    """Read the mailbox until cancelled, reconnecting after errors; never logs the password."""
    log.info("reading replies from the IMAP mailbox %s", target.where)
    delay = reconnect_seconds
    while True:
        try:
            async with _Connection.opened(target) as connection:
                while True:
                    await _take_in_all(connection, pool, storage, settings)
                    delay = reconnect_seconds  # working again: the next error waits little
                    await _wait(connection, poll_seconds=poll_seconds)
        except LoginError as exc:
            # Not going away by itself: the account or password needs fixing.
            log.error(
                "IMAP mailbox %s refused the login: %s; trying again in %.1f s",
                target.where,
                exc,
                delay,
            )
        except MAILBOX_ERRORS as exc:
            log.warning("IMAP mailbox %s: %s; trying again in %.1f s", target.where, exc, delay)
        except psycopg.OperationalError as exc:
            log.warning(
                "cannot take in mail, the database is unreachable: %s; trying again in %.1f s",
                exc,
                delay,
            )
        except Exception:
            # Whatever else went wrong, the worker keeps reading mail.
            log.exception(
                "reading the IMAP mailbox %s failed; trying again in %.1f s", target.where, delay
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_RECONNECT_SECONDS)
