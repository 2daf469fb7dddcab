"""Labels: everyone signed in reads them, admins manage them."""

from uuid import UUID

from fastapi import APIRouter, status

from ticketdesk.auth.dependencies import Audit, CurrentAdmin, CurrentUser
from ticketdesk.db import Transaction
from ticketdesk.errors import Conflict, Forbidden, NotFound, Unauthorized, problem_responses
from ticketdesk.labels import service
from ticketdesk.labels.schemas import Label, LabelCreate, LabelUpdate
from ticketdesk.tickets import service as tickets

router = APIRouter(tags=["labels"])


@router.get("/labels", operation_id="listLabels", responses=problem_responses(Unauthorized))
async def list_labels(actor: CurrentUser, conn: Transaction) -> list[Label]:
    """Every label, by name."""
    return await service.list_labels(conn)


@router.post(
    "/labels",
    status_code=status.HTTP_201_CREATED,
    operation_id="createLabel",
    responses=problem_responses(Unauthorized, Forbidden, Conflict),
)
async def create_label(
    body: LabelCreate, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> Label:
    """Add a label (admins)."""
    label = await service.create_label(conn, body)
    await audit("label.created", "label", label.id, after=label)
    return label


@router.patch(
    "/labels/{label_id}",
    operation_id="updateLabel",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def update_label(
    label_id: UUID, body: LabelUpdate, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> Label:
    """Rename, recolour or describe a label (admins); a new name is applied to every ticket."""
    before = _find(await service.list_labels(conn), label_id)
    label = await tickets.change_label(conn, actor, label_id, body)
    await audit("label.updated", "label", label.id, before=before, after=label)
    return label


@router.delete(
    "/labels/{label_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteLabel",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def delete_label(
    label_id: UUID, actor: CurrentAdmin, conn: Transaction, audit: Audit
) -> None:
    """Delete a label and remove it from every ticket (admins)."""
    before = _find(await service.list_labels(conn), label_id)
    await tickets.delete_label(conn, actor, label_id)
    await audit("label.deleted", "label", label_id, before=before)


def _find(labels: list[Label], label_id: UUID) -> Label | None:
    return next((label for label in labels if label.id == label_id), None)
