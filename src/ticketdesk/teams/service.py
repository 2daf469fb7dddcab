"""Teams: groups of staff that tickets are routed to, and who in a team is next.

Members are active agents and admins. A team hands its tickets out by rotation
(``next_in_rotation``): the member given one least recently is next, passing over those
marked away; the team's row is locked while it chooses, so tickets created at the same
moment are handed out one after the other.
"""

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

import psycopg
from pydantic import BaseModel

from ticketdesk.db import Connection, constraint_name
from ticketdesk.errors import Conflict, InvalidInput, NotFound
from ticketdesk.sql import (
    execute,
    fetch_all,
    fetch_one,
    fetch_optional,
    fetch_optional_value,
    fetch_value,
    fetch_values,
    load_queries,
)
from ticketdesk.teams.schemas import Team, TeamCreate, TeamMember, TeamRef, TeamUpdate
from ticketdesk.users import service as users

Q = load_queries(__package__)


class _TeamRow(BaseModel):
    id: UUID
    name: str
    created_at: datetime


class _MemberRow(TeamMember):
    team_id: UUID


def _not_found() -> NotFound:
    return NotFound("No such team.", code="team_not_found")


def _name_taken(exc: psycopg.errors.UniqueViolation) -> Conflict | None:
    if constraint_name(exc) == "teams_name_key":
        return Conflict("A team with this name exists.", code="team_exists", field="name")
    return None


async def _with_members(conn: Connection, rows: list[_TeamRow]) -> list[Team]:
    members = await fetch_all(
        conn, _MemberRow, Q.members_of, {"team_ids": [row.id for row in rows]}
    )
    by_team: dict[UUID, list[TeamMember]] = {row.id: [] for row in rows}
    for member in members:
        by_team[member.team_id].append(TeamMember(**member.model_dump(exclude={"team_id"})))
    return [
        Team(id=row.id, name=row.name, created_at=row.created_at, members=by_team[row.id])
        for row in rows
    ]


async def list_teams(conn: Connection) -> list[Team]:
    """Every team with its members, by name."""
    return await _with_members(conn, await fetch_all(conn, _TeamRow, Q.list_teams))


async def get_team(conn: Connection, team_id: UUID) -> Team:
    """One team with its members; ``NotFound`` otherwise."""
    row = await fetch_optional(conn, _TeamRow, Q.get_team, {"team_id": team_id})
    if row is None:
        raise _not_found()
    return (await _with_members(conn, [row]))[0]


async def _set_members(conn: Connection, team_id: UUID, member_ids: list[UUID]) -> None:
    wanted = list(dict.fromkeys(member_ids))
    staff = await users.assignable_among(conn, wanted)
    if refused := [str(i) for i in wanted if i not in staff]:
        raise InvalidInput(
            f"Team members must be active agents or admins: {', '.join(refused)}.",
            code="not_staff",
            field="member_ids",
        )
    await execute(conn, Q.remove_members, {"team_id": team_id, "user_ids": wanted})
    await execute(conn, Q.add_members, {"team_id": team_id, "user_ids": wanted})


async def create_team(conn: Connection, body: TeamCreate) -> Team:
    """Add a team with its members."""
    try:
        async with conn.transaction():
            row = await fetch_one(conn, _TeamRow, Q.insert_team, {"name": body.name})
    except psycopg.errors.UniqueViolation as exc:
        raise (_name_taken(exc) or exc) from exc
    await _set_members(conn, row.id, body.member_ids)
    return await get_team(conn, row.id)


async def update_team(conn: Connection, team_id: UUID, body: TeamUpdate) -> Team:
    """Rename a team or replace its members (those who stay keep their turn)."""
    if await fetch_optional(conn, _TeamRow, Q.get_team_for_update, {"team_id": team_id}) is None:
        raise _not_found()
    if body.name is not None:
        try:
            async with conn.transaction():
                await fetch_one(
                    conn, _TeamRow, Q.rename_team, {"team_id": team_id, "name": body.name}
                )
        except psycopg.errors.UniqueViolation as exc:
            raise (_name_taken(exc) or exc) from exc
    if body.member_ids is not None:
        await _set_members(conn, team_id, body.member_ids)
    return await get_team(conn, team_id)


async def lock_team(conn: Connection, team_id: UUID) -> TeamRef:
    """The team, locked until the transaction ends; ``NotFound`` otherwise."""
    row = await fetch_optional(conn, _TeamRow, Q.get_team_for_update, {"team_id": team_id})
    if row is None:
        raise _not_found()
    return TeamRef(id=row.id, name=row.name)


async def delete_team(conn: Connection, team_id: UUID) -> None:
    """Remove a team (its tickets must have been taken off it first)."""
    if await fetch_optional_value(conn, UUID, Q.delete_team, {"team_id": team_id}) is None:
        raise _not_found()


async def hold_team(conn: Connection, team_id: UUID) -> bool:
    """Whether the team exists, kept so (not deleted) until the transaction ends."""
    return await fetch_optional_value(conn, UUID, Q.hold_team, {"team_id": team_id}) is not None


async def team_refs(conn: Connection, ids: Collection[UUID]) -> dict[UUID, TeamRef]:
    """The teams with these ids, by id (unknown ids are left out)."""
    rows = await fetch_all(conn, TeamRef, Q.team_refs, {"ids": list(ids)})
    return {row.id: row for row in rows}


async def teams_of(conn: Connection, user_id: UUID) -> list[UUID]:
    """The ids of the teams ``user_id`` is in."""
    return await fetch_values(conn, UUID, Q.teams_of, {"user_id": user_id})


async def is_member(conn: Connection, team_id: UUID, user_id: UUID) -> bool:
    """Whether ``user_id`` is in the team."""
    return await fetch_value(conn, bool, Q.is_member, {"team_id": team_id, "user_id": user_id})


async def next_in_rotation(conn: Connection, team_id: UUID) -> UUID | None:
    """The member who gets the team's next ticket, now counted as given it: of the
    present active staff, the one given a ticket by rotation least recently. None when
    no one is there (or no such team). Locks the team's rotation until the transaction
    ends."""
    if await fetch_optional_value(conn, UUID, Q.lock_rotation, {"team_id": team_id}) is None:
        return None
    chosen = await fetch_optional_value(conn, UUID, Q.next_in_rotation, {"team_id": team_id})
    if chosen is not None:
        await execute(conn, Q.advance_rotation, {"team_id": team_id, "user_id": chosen})
    return chosen
