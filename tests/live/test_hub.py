"""The hub's streams: a reader that falls behind is told to reload; one that fails ends
alone."""

import asyncio
import uuid
from datetime import UTC, datetime

from fastapi import FastAPI

from tests.factories import Accounts, ticket_body
from ticketdesk.auth.service import Actor
from ticketdesk.events.schemas import LiveEvent
from ticketdesk.live.hub import CLOSING, OVERFLOW, QUEUE_SIZE, Hub, Subscription


def _event() -> LiveEvent:
    return LiveEvent(
        id=uuid.uuid4(),
        ticket_id=uuid.uuid4(),
        ticket_number=1,
        kind="commented",
        actor=None,
        data={},
        created_at=datetime.now(UTC),
    )


def _reader() -> Subscription:
    return Subscription(Actor(id=uuid.uuid4(), email="a@example.com", name="A", role="agent"))


async def test_an_overflowing_queue_holds_one_reset() -> None:
    subscription = _reader()

    for _ in range(QUEUE_SIZE + 50):
        subscription.offer(_event())

    assert subscription.queue.qsize() == 1
    assert await subscription.get() is OVERFLOW


async def test_events_queue_again_once_the_reader_has_the_reset() -> None:
    subscription = _reader()
    for _ in range(QUEUE_SIZE + 1):
        subscription.offer(_event())
    subscription.offer(_event())  # dropped: the reader is told to reload anyway
    assert await subscription.get() is OVERFLOW

    later = _event()
    subscription.offer(later)

    assert await subscription.get() is later


async def test_closing_replaces_what_is_queued() -> None:
    subscription = _reader()
    for _ in range(10):
        subscription.offer(_event())

    subscription.end()

    assert subscription.queue.qsize() == 1
    assert await subscription.get() is CLOSING


class _Unreadable(Actor):
    """An actor whose rights cannot be worked out: offering them anything fails."""

    @property
    def is_staff(self) -> bool:
        raise RuntimeError("no rights to read")


async def test_a_stream_that_fails_ends_and_the_others_go_on(
    app: FastAPI, accounts: Accounts
) -> None:
    hub: Hub = app.state.live
    broken = _Unreadable(id=uuid.uuid4(), email="b@example.com", name="B", role="agent")

    with hub.subscribe(broken) as failing, hub.subscribe(accounts.agent.actor) as working:
        first = await accounts.alice.client.post("/api/v1/tickets", json=ticket_body())
        async with asyncio.timeout(5):
            ended = await failing.get()
            opened = await working.get()
        second = await accounts.bob.client.post("/api/v1/tickets", json=ticket_body())
        async with asyncio.timeout(5):
            later = await working.get()

    assert ended is CLOSING
    assert isinstance(opened, LiveEvent)
    assert isinstance(later, LiveEvent)
    assert (opened.ticket_id, later.ticket_id) == (
        uuid.UUID(first.json()["id"]),
        uuid.UUID(second.json()["id"]),
    )
