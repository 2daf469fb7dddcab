"""Assignment rules, managed by admins."""

from uuid import UUID

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import Audit, CurrentAdmin
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    problem_responses,
)
from ticketdesk.routing import service
from ticketdesk.routing.schemas import Rule, RuleCreate, RuleUpdate

router = APIRouter(tags=["assignment rules"])


@router.get(
    "/assignment-rules",
    operation_id="listAssignmentRules",
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_rules(actor: CurrentAdmin, conn: Transaction) -> list[Rule]:
    """Every assignment rule, in the order they run (admins)."""
    return await service.list_rules(conn)


@router.post(
    "/assignment-rules",
    status_code=status.HTTP_201_CREATED,
    operation_id="createAssignmentRule",
    responses=problem_responses(Unauthorized, Forbidden, Conflict, InvalidInput),
)
async def create_rule(
    body: RuleCreate, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> Rule:
    """Add an assignment rule, last in the order unless ``position`` says where (admins)."""
    rule = await service.create_rule(conn, body)
    await audit("assignment_rule.created", "assignment_rule", rule.id, after=rule)
    return rule


@router.patch(
    "/assignment-rules/{rule_id}",
    operation_id="updateAssignmentRule",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, InvalidInput),
)
async def update_rule(
    rule_id: UUID, body: RuleUpdate, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> Rule:
    """Change, switch off or move an assignment rule (admins)."""
    before = await service.get_rule(conn, rule_id)
    rule = await service.update_rule(conn, rule_id, body)
    await audit("assignment_rule.updated", "assignment_rule", rule.id, before=before, after=rule)
    return rule


@router.delete(
    "/assignment-rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteAssignmentRule",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_rule(rule_id: UUID, actor: CurrentAdmin, conn: Transaction, audit: Audit) -> None:
    """Delete an assignment rule (admins)."""
    before = await service.get_rule(conn, rule_id)
    await service.delete_rule(conn, rule_id)
    await audit("assignment_rule.deleted", "assignment_rule", rule_id, before=before)
