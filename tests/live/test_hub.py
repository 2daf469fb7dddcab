"""A stream's queue is bounded: a reader that falls behind is told to reload."""

import uuid
from datetime import UTC, datetime

from ticketdesk.auth.service import Actor
from ticketdesk.events.schemas import LiveEvent
from ticketdesk.live.hub import CLOSING, OVERFLOW, QUEUE_SIZE, Subscription


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
