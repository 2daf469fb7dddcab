"""Accounts, for staff to look up and admins to manage."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import AfterValidator

from ticketdesk.auth.dependencies import Audit, CurrentAdmin, CurrentAgent
from ticketdesk.config import AppSettings
from ticketdesk.db import Transaction
from ticketdesk.errors import Conflict, Forbidden, NotFound, Unauthorized, problem_responses
from ticketdesk.users import service
from ticketdesk.users.schemas import Away, Role, User, UserCreate, UserPage, UserUpdate
from ticketdesk.validation import PlainInteger, no_nul

router = APIRouter(tags=["users"])


@router.get(
    "/users", operation_id="listUsers", responses=problem_responses(Unauthorized, Forbidden)
)
async def list_users(
    actor: CurrentAgent,
    conn: Transaction,
    role: Role | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100), PlainInteger] = 50,
    q: Annotated[
        Annotated[str, AfterValidator(no_nul)] | None,
        Query(max_length=100, description="Only accounts whose name or address holds this."),
    ] = None,
) -> UserPage:
    """Accounts, ordered by e-mail address (agents and admins)."""
    return await service.list_users(conn, role=role, after_email=cursor, limit=limit, q=q)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    operation_id="createUser",
    responses=problem_responses(Unauthorized, Forbidden, Conflict),
)
async def create_user(
    body: UserCreate, actor: CurrentAdmin, conn: Transaction, settings: AppSettings, audit: Audit
) -> User:
    """Create an account with any role (admins)."""
    user = await service.create_user(
        conn,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        internal_domains=settings.internal_email_domains,
    )
    await audit("user.created", "user", user.id, after=user)
    return user


@router.patch(
    "/users/{user_id}",
    operation_id="updateUser",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def update_user(
    user_id: UUID, body: UserUpdate, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> User:
    """Change a user's name, role or access (admins)."""
    if user_id == actor.id and (body.role not in (None, "admin") or body.is_active is False):
        raise Conflict("You cannot demote or deactivate yourself.", code="self_demotion")
    before = await service.get_user(conn, user_id)
    user = await service.update_user(
        conn,
        user_id,
        name=body.name,
        role=body.role,
        is_active=body.is_active,
        is_away=body.is_away,
    )
    # One entry for each kind of change, so that role changes and deactivations can be
    # looked up by their action.
    actions = []
    if user.role != before.role:
        actions.append("user.role_changed")
    if user.is_active != before.is_active:
        actions.append("user.activated" if user.is_active else "user.deactivated")
    if (user.name, user.is_away) != (before.name, before.is_away):
        actions.append("user.updated")
    for action in actions:
        await audit(action, "user", user.id, before=before, after=user)
    return user


@router.get(
    "/me/away", operation_id="getAway", responses=problem_responses(Unauthorized, Forbidden)
)
async def get_away(actor: CurrentAgent, conn: Transaction) -> Away:
    """Whether you are marked away (agents and admins)."""
    user = await service.get_user(conn, actor.id)
    return Away(away=user.is_away)


@router.put(
    "/me/away", operation_id="setAway", responses=problem_responses(Unauthorized, Forbidden)
)
async def set_away(body: Away, actor: CurrentAgent, conn: Transaction) -> Away:
    """Mark yourself away, so round-robin assignment passes you over, or back (agents and
    admins)."""
    user = await service.set_away(conn, actor.id, body.away)
    return Away(away=user.is_away)
