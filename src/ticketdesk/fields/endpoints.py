"""Custom fields: everyone signed in reads those they may see, admins manage them."""

from uuid import UUID

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import CurrentAdmin, CurrentUser
from ticketdesk.db import Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    problem_responses,
)
from ticketdesk.events import service as events
from ticketdesk.fields import service
from ticketdesk.fields.schemas import CustomField, CustomFieldCreate, CustomFieldUpdate
from ticketdesk.tickets import access

router = APIRouter(tags=["custom fields"])


@router.get(
    "/custom-fields",
    operation_id="listCustomFields",
    responses=problem_responses(Unauthorized),
)
async def list_custom_fields(actor: CurrentUser, conn: Transaction) -> list[CustomField]:
    """Every custom field, oldest first; staff-only fields only for agents and admins."""
    return await service.list_fields(conn, staff=access.sees_internal(actor))


@router.post(
    "/custom-fields",
    status_code=status.HTTP_201_CREATED,
    operation_id="createCustomField",
    responses=problem_responses(Unauthorized, Forbidden, Conflict, InvalidInput),
)
async def create_custom_field(
    body: CustomFieldCreate, actor: CurrentAdmin, conn: Transaction
) -> CustomField:
    """Define a custom field (admins). Its key and type never change."""
    return await service.create_field(conn, body)


@router.patch(
    "/custom-fields/{field_id}",
    operation_id="updateCustomField",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def update_custom_field(
    field_id: UUID, body: CustomFieldUpdate, actor: CurrentAdmin, conn: Transaction
) -> CustomField:
    """Change a field's label, options, audience or ticket types (admins); an option that
    tickets have chosen cannot be removed."""
    field = await service.update_field(conn, field_id, body)
    if body.staff_only:
        # Its values changed in public before: those timeline events become staff's too.
        await events.hide_custom_field_changes(conn, field.key)
    return field


@router.delete(
    "/custom-fields/{field_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteCustomField",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_custom_field(field_id: UUID, actor: CurrentAdmin, conn: Transaction) -> None:
    """Delete a field and every ticket's value of it (admins)."""
    await service.delete_field(conn, field_id)
