"""Staff marking themselves on a ticket, and seeing who else is there.

A mark that arrives, changes state or leaves is announced on the live channel
(``{"presence": "<ticket id>"}``), so the other staff on the ticket hear of it; a
renewal in the same state is not. A mark that lapses is not announced: the others see it
gone when they next renew their own (every 20 s or so), which answers with the others.
"""

from uuid import UUID

from ticketdesk.auth.service import Actor
from ticketdesk.broadcast import announce_presence
from ticketdesk.db import Connection
from ticketdesk.errors import Forbidden
from ticketdesk.presence.board import PresenceBoard
from ticketdesk.presence.schemas import PresenceList, PresenceState, PresentPerson
from ticketdesk.tickets.access import get_visible_ticket
from ticketdesk.users import service as users
from ticketdesk.users.schemas import UserRef


async def _staff_ticket(conn: Connection, actor: Actor, ref: str) -> UUID:
    """The id of the ticket ``ref``: like any ticket route, a 404 to whoever may not see
    it; then a 403 to its submitter, since presence is for staff."""
    ticket = await get_visible_ticket(conn, actor, ref)
    if not actor.is_staff:
        raise Forbidden("Only agents and admins see who is on a ticket.", code="staff_only")
    return ticket.id


async def _others(
    conn: Connection, board: PresenceBoard, actor: Actor, ticket_id: UUID
) -> PresenceList:
    marks = [mark for mark in await board.present(conn, ticket_id) if mark.user_id != actor.id]
    people = {user.id: user for user in await users.users_by_id(conn, {m.user_id for m in marks})}
    return PresenceList(
        others=[
            PresentPerson(
                user=UserRef(id=person.id, name=person.name, role=person.role, email=person.email),
                state=mark.state,
                since=mark.since,
            )
            for mark in marks
            # Someone deactivated or no longer staff since they were marked is not shown.
            if (person := people.get(mark.user_id)) is not None
            and person.is_active
            and person.role != "user"
        ]
    )


async def mark_present(
    conn: Connection, board: PresenceBoard, actor: Actor, ref: str, state: PresenceState
) -> PresenceList:
    """Mark ``actor`` on the ticket ``ref`` for the next ``board.ttl``; the others there."""
    ticket_id = await _staff_ticket(conn, actor, ref)
    previous = await board.put(conn, ticket_id, actor.id, state)
    if previous != state:
        await announce_presence(conn, ticket_id)
    return await _others(conn, board, actor, ticket_id)


async def others_present(
    conn: Connection, board: PresenceBoard, actor: Actor, ref: str
) -> PresenceList:
    """The other staff on the ticket ``ref`` now."""
    ticket_id = await _staff_ticket(conn, actor, ref)
    return await _others(conn, board, actor, ticket_id)


async def leave(conn: Connection, board: PresenceBoard, actor: Actor, ref: str) -> None:
    """Take ``actor``'s mark off the ticket ``ref`` (nothing happens if there was none)."""
    ticket_id = await _staff_ticket(conn, actor, ref)
    if await board.remove(conn, ticket_id, actor.id):
        await announce_presence(conn, ticket_id)
