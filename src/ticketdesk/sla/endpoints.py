"""SLA policies: staff read them, admins manage them; staff read a ticket's clocks."""

from uuid import UUID

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import Audit, CurrentAdmin, CurrentAgent, CurrentUser
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    problem_responses,
)
from ticketdesk.sla import service
from ticketdesk.sla.schemas import SlaPolicy, SlaPolicyWrite, TicketSla
from ticketdesk.tickets import access
from ticketdesk.tickets.access import get_visible_ticket
from ticketdesk.tickets.schemas import TicketRef

router = APIRouter(tags=["sla"])
# A ticket's clocks: gone, with the other ticket routes, while tickets are switched off.
ticket_router = APIRouter(tags=["sla"])


@router.get(
    "/sla-policies",
    operation_id="listSlaPolicies",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_policies(actor: CurrentAgent, conn: Transaction) -> list[SlaPolicy]:
    """Every SLA policy, in the order they are tried: the first that matches a ticket
    applies (staff)."""
    return await service.list_policies(conn)


@router.post(
    "/sla-policies",
    status_code=status.HTTP_201_CREATED,
    operation_id="createSlaPolicy",
    responses=problem_responses(Unauthorized, Forbidden, Conflict, InvalidInput),
)
async def create_policy(
    body: SlaPolicyWrite, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> SlaPolicy:
    """Add an SLA policy; tickets opened or re-targeted from now on may take it (admins)."""
    policy = await service.create_policy(conn, body)
    await audit("sla_policy.created", "sla_policy", policy.id, after=policy)
    return policy


@router.get(
    "/sla-policies/{policy_id}",
    operation_id="getSlaPolicy",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def get_policy(policy_id: UUID, actor: CurrentAgent, conn: Transaction) -> SlaPolicy:
    """One SLA policy (staff)."""
    return await service.get_policy(conn, policy_id)


@router.put(
    "/sla-policies/{policy_id}",
    operation_id="updateSlaPolicy",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def update_policy(
    policy_id: UUID, body: SlaPolicyWrite, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> SlaPolicy:
    """Replace an SLA policy; tickets already targeted keep their due times (admins)."""
    before = await service.get_policy(conn, policy_id)
    policy = await service.update_policy(conn, policy_id, body)
    await audit("sla_policy.updated", "sla_policy", policy.id, before=before, after=policy)
    return policy


@router.delete(
    "/sla-policies/{policy_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteSlaPolicy",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_policy(
    policy_id: UUID, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> None:
    """Delete an SLA policy; tickets it targeted keep their clocks (admins)."""
    before = await service.get_policy(conn, policy_id)
    await service.delete_policy(conn, policy_id)
    await audit("sla_policy.deleted", "sla_policy", policy_id, before=before)


@ticket_router.get(
    "/tickets/{id}/sla",
    operation_id="getTicketSla",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def get_ticket_sla(id: TicketRef, actor: CurrentUser, conn: Transaction) -> TicketSla | None:
    """A ticket's SLA clocks: its policy, targets, due times and breaches; null when no
    policy applies (staff)."""
    # Who may not see the ticket learns nothing of it: a 404 before the 403.
    ticket = await get_visible_ticket(conn, actor, id)
    if not access.sees_triage(actor):
        raise Forbidden("Only agents and admins see a ticket's SLA.", code="staff_only")
    if ticket.sla_state is None:
        return None
    return await service.ticket_sla(conn, ticket.id, state=ticket.sla_state)
