"""Custom fields: everyone signed in reads those they may see, admins manage them."""

from uuid import UUID

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import Audit, CurrentAdmin, CurrentUser
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
    body: CustomFieldCreate, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> CustomField:
    """Define a custom field (admins). Its key and type never change."""
    field = await service.create_field(conn, body)
    await audit("custom_field.created", "custom_field", field.id, after=field)
    return field


@router.patch(
    "/custom-fields/{field_id}",
    operation_id="updateCustomField",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def update_custom_field(
    field_id: UUID, body: CustomFieldUpdate, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> CustomField:
    """Change a field's label, options, audience or ticket types (admins); an option that
    tickets have chosen cannot be removed."""
    before = await _find(conn, field_id)
    field = await service.update_field(conn, field_id, body)
    await audit("custom_field.updated", "custom_field", field.id, before=before, after=field)
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
async def delete_custom_field(
    field_id: UUID, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> None:
    """Delete a field and every ticket's value of it (admins)."""
    before = await _find(conn, field_id)
    await service.delete_field(conn, field_id)
    await audit("custom_field.deleted", "custom_field", field_id, before=before)


async def _find(conn: Transaction, field_id: UUID) -> CustomField | None:
    fields = await service.list_fields(conn, staff=True)
    return next((field for field in fields if field.id == field_id), None)
