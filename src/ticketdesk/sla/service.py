"""SLA policies, and the clocks they start on tickets.

Admins write policies; the first in (position, name) order that matches a ticket applies
(``choose_policy``). A ticket is targeted when it is opened and re-targeted when its
priority, type or labels change; its clocks keep the policy's calendar and targets as
they were then, so editing a policy later does not move the due times of tickets
already running. The ticket's own row (its state, nearest due time and next check) is
the tickets domain's to write: each function here returns an ``Outcome`` for it.
Nothing here commits, and the caller holds the ticket's row lock.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ticketdesk.db import Connection, constraint_name
from ticketdesk.errors import Conflict, NotFound
from ticketdesk.sla import clocks as clock
from ticketdesk.sla.calendar import Calendar, Pause
from ticketdesk.sla.schemas import SlaPolicy, SlaPolicyWrite, State, TicketSla
from ticketdesk.sql import execute, fetch_all, fetch_one, fetch_optional, load_queries

Q = load_queries(__package__)


# --- policies, for admins ---------------------------------------------------------------


def _name_taken(exc: psycopg.errors.UniqueViolation) -> Conflict | None:
    if constraint_name(exc) == "sla_policies_name_key":
        return Conflict("A policy with this name exists.", code="sla_policy_exists", field="name")
    return None


def _params(body: SlaPolicyWrite) -> dict[str, Any]:
    return {
        "name": body.name,
        "position": body.position,
        "ticket_type": body.ticket_type,
        "label": body.label,
        "calendar": Jsonb(body.calendar.stored()),
        "targets": Jsonb([t.model_dump(mode="json") for t in body.targets]),
    }


async def list_policies(conn: Connection) -> list[SlaPolicy]:
    """Every policy, in the order they are tried."""
    return await fetch_all(conn, SlaPolicy, Q.list_policies)


async def get_policy(conn: Connection, policy_id: UUID) -> SlaPolicy:
    """One policy."""
    policy = await fetch_optional(conn, SlaPolicy, Q.get_policy, {"policy_id": policy_id})
    if policy is None:
        raise NotFound("No such SLA policy.", code="sla_policy_not_found")
    return policy


async def create_policy(conn: Connection, body: SlaPolicyWrite) -> SlaPolicy:
    """Add a policy; it applies to tickets targeted from now on."""
    try:
        async with conn.transaction():
            return await fetch_one(conn, SlaPolicy, Q.insert_policy, _params(body))
    except psycopg.errors.UniqueViolation as exc:
        raise (_name_taken(exc) or exc) from exc


async def update_policy(conn: Connection, policy_id: UUID, body: SlaPolicyWrite) -> SlaPolicy:
    """Replace a policy; tickets already targeted keep their due times."""
    try:
        async with conn.transaction():
            policy = await fetch_optional(
                conn, SlaPolicy, Q.update_policy, {**_params(body), "policy_id": policy_id}
            )
    except psycopg.errors.UniqueViolation as exc:
        raise (_name_taken(exc) or exc) from exc
    if policy is None:
        raise NotFound("No such SLA policy.", code="sla_policy_not_found")
    return policy


async def delete_policy(conn: Connection, policy_id: UUID) -> None:
    """Delete a policy; tickets it targeted keep their clocks."""
    if not await execute(conn, Q.delete_policy, {"policy_id": policy_id}):
        raise NotFound("No such SLA policy.", code="sla_policy_not_found")


async def rename_label(conn: Connection, old: str, new: str) -> None:
    """Have the policies narrowed to label ``old`` follow its new name, ``new``."""
    await execute(conn, Q.rename_label, {"old": old, "new": new})


def choose_policy(
    policies: Sequence[SlaPolicy], *, ticket_type: str, priority: str, tags: Sequence[str]
) -> SlaPolicy | None:
    """The policy for a ticket: the first of ``policies`` (in their order) whose type and
    label, where set, are the ticket's and that sets a target for its priority."""
    labels = {tag.lower() for tag in tags}
    for policy in policies:
        if policy.ticket_type is not None and policy.ticket_type != ticket_type:
            continue
        if policy.label is not None and policy.label.lower() not in labels:
            continue
        if any(target.priority == priority for target in policy.targets):
            return policy
    return None


# --- a ticket's clocks --------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFacts:
    """What choosing a ticket's policy and reading its clocks looks at."""

    ticket_id: UUID
    ticket_type: str
    priority: str
    tags: Sequence[str]
    status: str


@dataclass(frozen=True)
class Breach:
    """A target a ticket just missed."""

    target: clock.Target
    due_at: datetime
    policy_name: str


@dataclass(frozen=True)
class Outcome:
    """What the ticket's row says of its clocks; all None: it has none."""

    state: State | None = None
    due_at: datetime | None = None
    next_check_at: datetime | None = None
    breaches: list[Breach] = field(default_factory=list)


class _Stored(BaseModel):
    ticket_id: UUID
    policy_id: UUID | None
    policy_name: str
    calendar: dict[str, Any]
    first_response_minutes: int | None
    resolution_minutes: int | None
    started_at: datetime
    pauses: list[tuple[datetime, datetime | None]]
    first_responded_at: datetime | None
    first_response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None

    def clocks(self) -> clock.Clocks:
        return clock.Clocks(
            calendar=Calendar.from_json(self.calendar),
            started_at=self.started_at,
            first_response_minutes=self.first_response_minutes,
            resolution_minutes=self.resolution_minutes,
            pauses=self.pauses,
            first_responded_at=self.first_responded_at,
            first_response_breached_at=self.first_response_breached_at,
            resolution_breached_at=self.resolution_breached_at,
        )


async def _stored(conn: Connection, ticket_id: UUID) -> _Stored | None:
    return await fetch_optional(conn, _Stored, Q.ticket_clocks, {"ticket_id": ticket_id})


async def _settle(conn: Connection, stored: _Stored, *, status: str, now: datetime) -> Outcome:
    """Read ``stored`` at ``now``, mark what it breached now, save it and say what the
    ticket's row should."""
    reading = clock.read(stored.clocks(), status=status, now=now)
    breaches: list[Breach] = []
    updates: dict[str, Any] = {
        "first_response_due_at": reading.first_response_due_at,
        "resolution_due_at": reading.resolution_due_at,
    }
    for target in reading.breaches:
        due = (
            reading.first_response_due_at
            if target == "first_response"
            else (reading.resolution_due_at)
        )
        assert due is not None
        updates[f"{target}_breached_at"] = now
        breaches.append(Breach(target=target, due_at=due, policy_name=stored.policy_name))
    saved = stored.model_copy(update=updates)
    await execute(
        conn,
        Q.save_clocks,
        {
            **saved.model_dump(exclude={"calendar", "pauses"}),
            "calendar": Jsonb(saved.calendar),
            "pauses": Jsonb(
                [[since.isoformat(), until and until.isoformat()] for since, until in saved.pauses]
            ),
        },
    )
    return Outcome(
        state=reading.state,
        due_at=reading.due_at,
        next_check_at=reading.next_check_at,
        breaches=breaches,
    )


async def target(
    conn: Connection,
    ticket: TicketFacts,
    *,
    now: datetime,
    start: datetime | None = None,
    staff_replied_at: datetime | None = None,
) -> Outcome | None:
    """Choose the ticket's policy again (on opening: ``start`` is when it was opened; on a
    change of priority, type or labels) and take its targets; None: the ticket had no
    clocks and still has none.

    Clocks already running keep their start, pauses and breaches; a ticket that gains
    clocks later starts them ``now`` (its first public staff reply, ``staff_replied_at``,
    if any, met the first response), and one that no longer matches any policy loses
    them."""
    stored = await _stored(conn, ticket.ticket_id)
    policy = choose_policy(
        await list_policies(conn),
        ticket_type=ticket.ticket_type,
        priority=ticket.priority,
        tags=ticket.tags,
    )
    if policy is not None and not await execute(conn, Q.hold_policy, {"policy_id": policy.id}):
        # Deleted by an admin since it was read: choose among the policies left.
        return await target(conn, ticket, now=now, start=start, staff_replied_at=staff_replied_at)
    if policy is None:
        if stored is None:
            return None
        await execute(conn, Q.delete_clocks, {"ticket_id": ticket.ticket_id})
        return Outcome()
    [targets] = [t for t in policy.targets if t.priority == ticket.priority]
    if stored is None:
        begin = start or now
        running = ticket.status in clock.RUNNING
        stored = _Stored(
            ticket_id=ticket.ticket_id,
            policy_id=policy.id,
            policy_name=policy.name,
            calendar=policy.calendar.stored(),
            first_response_minutes=targets.first_response_minutes,
            resolution_minutes=targets.resolution_minutes,
            started_at=begin,
            pauses=[] if running else [(begin, None)],
            first_responded_at=staff_replied_at,
            first_response_breached_at=None,
            resolution_breached_at=None,
            first_response_due_at=None,
            resolution_due_at=None,
        )
    else:
        stored = stored.model_copy(
            update={
                "policy_id": policy.id,
                "policy_name": policy.name,
                "calendar": policy.calendar.stored(),
                "first_response_minutes": targets.first_response_minutes,
                "resolution_minutes": targets.resolution_minutes,
            }
        )
    return await _settle(conn, stored, status=ticket.status, now=now)


async def status_changed(
    conn: Connection, ticket_id: UUID, *, old: str, new: str, now: datetime
) -> Outcome | None:
    """Stop the clocks when the ticket leaves open and in progress, run them again when
    it comes back; None: it has no clocks."""
    stored = await _stored(conn, ticket_id)
    if stored is None:
        return None
    pauses: list[Pause] = list(stored.pauses)
    was, runs = old in clock.RUNNING, new in clock.RUNNING
    if was and not runs:
        pauses.append((now, None))
    elif runs and not was and pauses and pauses[-1][1] is None:
        pauses[-1] = (pauses[-1][0], now)
    return await _settle(conn, stored.model_copy(update={"pauses": pauses}), status=new, now=now)


async def first_response(
    conn: Connection, ticket_id: UUID, *, status: str, now: datetime
) -> Outcome | None:
    """A public reply from staff: it meets the first-response target, if not yet met;
    None: the ticket has no clocks, or the target was already met."""
    stored = await _stored(conn, ticket_id)
    if stored is None or stored.first_responded_at is not None:
        return None
    return await _settle(
        conn, stored.model_copy(update={"first_responded_at": now}), status=status, now=now
    )


async def check(conn: Connection, ticket_id: UUID, *, status: str, now: datetime) -> Outcome | None:
    """Read the ticket's clocks at ``now`` (the timed job); None: it has none."""
    stored = await _stored(conn, ticket_id)
    if stored is None:
        return None
    return await _settle(conn, stored, status=status, now=now)


async def ticket_sla(conn: Connection, ticket_id: UUID, *, state: State) -> TicketSla | None:
    """A ticket's clocks as staff see them, in the ``state`` its row holds; None: none."""
    stored = await _stored(conn, ticket_id)
    if stored is None:
        return None
    return TicketSla(
        **stored.model_dump(exclude={"ticket_id", "calendar", "pauses"}),
        state=state,
        paused=bool(stored.pauses) and stored.pauses[-1][1] is None,
    )
