"""Teams: staff read them, admins manage them."""

from uuid import UUID

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import Audit, CurrentAdmin, CurrentAgent
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    problem_responses,
)
from ticketdesk.teams import service
from ticketdesk.teams.schemas import Team, TeamCreate, TeamUpdate
from ticketdesk.tickets import service as tickets

router = APIRouter(tags=["teams"])


@router.get(
    "/teams", operation_id="listTeams", responses=problem_responses(Unauthorized, Forbidden)
)
async def list_teams(actor: CurrentAgent, conn: Transaction) -> list[Team]:
    """Every team with its members, by name (agents and admins)."""
    return await service.list_teams(conn)


@router.post(
    "/teams",
    status_code=status.HTTP_201_CREATED,
    operation_id="createTeam",
    responses=problem_responses(Unauthorized, Forbidden, Conflict, InvalidInput),
)
async def create_team(
    body: TeamCreate, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> Team:
    """Add a team of agents and admins (admins)."""
    team = await service.create_team(conn, body)
    await audit("team.created", "team", team.id, after=team)
    return team


@router.get(
    "/teams/{team_id}",
    operation_id="getTeam",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def get_team(team_id: UUID, actor: CurrentAgent, conn: Transaction) -> Team:
    """One team with its members (agents and admins)."""
    return await service.get_team(conn, team_id)


@router.patch(
    "/teams/{team_id}",
    operation_id="updateTeam",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def update_team(
    team_id: UUID, body: TeamUpdate, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> Team:
    """Rename a team or replace its members (admins)."""
    before = await service.get_team(conn, team_id)
    team = await service.update_team(conn, team_id, body)
    await audit("team.updated", "team", team.id, before=before, after=team)
    return team


@router.delete(
    "/teams/{team_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteTeam",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def delete_team(team_id: UUID, actor: CurrentAdmin, conn: Transaction, audit: Audit) -> None:
    """Delete a team, taking it off its tickets (admins); refused while a rule names it."""
    before = await service.get_team(conn, team_id)
    await tickets.delete_team(conn, actor, team_id)
    await audit("team.deleted", "team", team_id, before=before)
