"""The seed's ticket routes, plus bulk actions."""

import json
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import AfterValidator, TypeAdapter, ValidationError

from ticketdesk import ticket_detail
from ticketdesk.auth import links
from ticketdesk.auth.dependencies import Audit, CurrentAgent, CurrentUser, SigningSecret
from ticketdesk.auth.service import Actor
from ticketdesk.config import AppSettings, Settings
from ticketdesk.db import Connection, Transaction
from ticketdesk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    RateLimited,
    Unauthorized,
    problem_responses,
)
from ticketdesk.rate_limits import RateLimits
from ticketdesk.ticket_detail import TicketDetail
from ticketdesk.tickets import followers, listing, service, similar
from ticketdesk.tickets.access import get_readable_ticket, get_visible_ticket
from ticketdesk.tickets.followers import FollowState
from ticketdesk.tickets.schemas import (
    Assignment,
    BulkRequest,
    BulkResult,
    ListSort,
    Metadata,
    Priority,
    SlaState,
    Status,
    Ticket,
    TicketCreate,
    TicketFilters,
    TicketPage,
    TicketRef,
    TicketType,
    TicketUpdate,
)
from ticketdesk.users.schemas import User
from ticketdesk.validation import PlainBoolean, PlainDateTime, PlainInteger, no_nul

router = APIRouter(tags=["tickets"])

# What a client may do next with the ticket an answer holds (OpenAPI links).
_LINKS_TO_A_TICKET = {
    name: {"operationId": name, "parameters": {"id": "$response.body#/id"}}
    for name in ("getTicket", "updateTicket", "addComment", "listComments")
}

IfMatch = Annotated[
    str | None, Header(description="An ETag from a read; a stale one is refused with 412.")
]
_metadata = TypeAdapter(Metadata)
SearchText = Annotated[str, AfterValidator(no_nul)]


async def _page(
    conn: Connection,
    actor: Actor,
    settings: Settings,
    response: Response,
    ticket: Ticket,
    *,
    just_opened: bool = False,
) -> TicketDetail:
    """The ticket as its reader sees it, tagged with its version."""
    response.headers["ETag"] = service.etag(ticket)
    return await ticket_detail.assemble(
        conn,
        actor,
        ticket,
        reopen_window=settings.reopen_window,
        undo_window=settings.merge_undo_window,
        just_opened=just_opened,
    )


@router.post(
    "/tickets",
    status_code=status.HTTP_201_CREATED,
    operation_id="createTicket",
    responses={
        201: {"description": "The ticket, as opened.", "links": _LINKS_TO_A_TICKET},
        **problem_responses(Unauthorized, Forbidden, Conflict, InvalidInput, RateLimited),
    },
)
async def create_ticket(
    body: TicketCreate,
    actor: CurrentUser,
    conn: Transaction,
    response: Response,
    settings: AppSettings,
    limiter: RateLimits,
    secret: SigningSecret,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=255,
            description="Retrying with the same key and body returns the same ticket.",
        ),
    ] = None,
) -> TicketDetail:
    """Open a ticket; staff may open it for a customer (``on_behalf_of``)."""

    async def invite(email: str, name: str) -> User:
        return await links.invite(
            conn,
            secret,
            email=email,
            name=name,
            role="user",
            internal_domains=settings.internal_email_domains,
        )

    ticket, replayed = await service.create_ticket(
        conn,
        actor,
        body,
        idempotency_key=idempotency_key,
        admit=lambda: limiter.check("ticket", str(actor.id)),
        invite=invite if settings.mail_enabled else None,
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    return await _page(conn, actor, settings, response, ticket, just_opened=not replayed)


@router.get(
    "/tickets",
    operation_id="listTickets",
    responses=problem_responses(Unauthorized, Forbidden, InvalidInput),
)
async def list_tickets(
    request: Request,
    actor: CurrentUser,
    conn: Transaction,
    settings: AppSettings,
    status: Annotated[list[Status] | None, Query(description="One or more statuses.")] = None,
    type: Annotated[list[TicketType] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    assignee: Annotated[
        Literal["me", "none"] | UUID | None,
        Query(description="me, none, or a user id."),
    ] = None,
    team: Annotated[
        Literal["mine", "none"] | UUID | None,
        Query(description="Staff only: a team's id, mine (any team you are in) or none (no team)."),
    ] = None,
    submitter: UUID | None = None,
    tags: Annotated[
        list[SearchText] | None,
        Query(
            max_length=20,
            description="Tickets whose `tags` hold all these label names (repeat it: "
            "`?tags=ui&tags=api`).",
        ),
    ] = None,
    tag: Annotated[
        list[SearchText] | None,
        Query(
            max_length=20,
            deprecated=True,
            description="The former name of `tags`, still taken: both together are one list.",
        ),
    ] = None,
    metadata: Annotated[
        str | None,
        Query(
            max_length=2000,
            description='A JSON object the metadata must contain: {"os": "Linux"}.',
            # Described as JSON in the query (OpenAPI's parameter "content").
            json_schema_extra={
                "contentMediaType": "application/json",
                "contentSchema": {"type": "object"},
            },
        ),
    ] = None,
    created_after: Annotated[datetime | None, PlainDateTime] = None,
    created_before: Annotated[datetime | None, PlainDateTime] = None,
    updated_after: Annotated[datetime | None, PlainDateTime] = None,
    updated_before: Annotated[datetime | None, PlainDateTime] = None,
    q: Annotated[
        SearchText | None,
        Query(
            max_length=200,
            description='Full-text search in every status: words, "a phrase", -excluded; '
            "staff also search internal notes. A ticket number (`51`, `#51`) also finds that "
            "ticket. Each result then carries a `snippet`.",
        ),
    ] = None,
    customer_replied: Annotated[
        bool | None,
        Query(description="Staff only: tickets whose submitter awaits an answer (true) or not."),
        PlainBoolean,
    ] = None,
    sla: Annotated[
        list[SlaState] | None,
        Query(description="Staff only: tickets in one of these SLA states."),
    ] = None,
    sort: Annotated[
        ListSort,
        Query(
            description="`relevance` (only with q): best match first, among the newest "
            "1,000 matches. `sla_due` (staff only): overdue first, then the soonest SLA "
            "due time; tickets with no running SLA clock last. `cf.<key>` (`-cf.<key>`): "
            "by a custom field's value, tickets without one last (not a multi_select)."
        ),
    ] = "-created",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100), PlainInteger] = 25,
) -> TicketPage:
    """Tickets you may see, filtered and sorted, a page at a time.

    Custom fields filter as `cf.<key>=value` (repeat it for any of several values; a
    multi_select matches tickets that chose any of them; a date is `YYYY-MM-DD`, a
    checkbox `true` or `false`), e.g. `?cf.severity=major&cf.severity=critical`; a number
    or a date also by its bounds, `cf.<key>.from` and `cf.<key>.to` (inclusive)."""
    custom_fields: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name.startswith("cf."):
            custom_fields.setdefault(name[3:], []).append(value)
    metadata_filter = None
    if metadata is not None:
        try:
            metadata_filter = _metadata.validate_python(json.loads(metadata))
        except (ValueError, ValidationError, RecursionError):
            raise InvalidInput(
                "metadata must be a JSON object of plain values.",
                code="bad_metadata",
                field="metadata",
            ) from None
    filters = TicketFilters(
        status=status or [],
        type=type or [],
        priority=priority or [],
        assignee=None if assignee is None else str(assignee),
        team=None if team is None else str(team),
        submitter=submitter,
        tags=[*(tags or []), *(tag or [])],
        metadata=metadata_filter,
        created_after=created_after,
        created_before=created_before,
        updated_after=updated_after,
        updated_before=updated_before,
        q=q.strip() if q and q.strip() else None,
        customer_replied=customer_replied,
        custom_fields=custom_fields,
        sla=sla or [],
    )
    return await listing.list_tickets(
        conn,
        actor,
        filters,
        sort=sort,
        cursor=cursor,
        limit=limit,
        reopen_window=settings.reopen_window,
    )


@router.get(
    "/tickets/similar",
    operation_id="similarTickets",
    responses=problem_responses(Unauthorized, InvalidInput),
)
async def similar_tickets(
    actor: CurrentUser,
    conn: Transaction,
    title: Annotated[
        SearchText,
        Query(min_length=1, max_length=200, description="The title of a ticket being written."),
    ],
    limit: Annotated[int, Query(ge=1, le=20), PlainInteger] = 5,
) -> list[similar.SimilarTicket]:
    """Tickets you may see that are likely the same as one titled ``title``, best first:
    among the newest sharing its words (public text only, never internal notes), those
    whose titles are most alike (by trigrams, when the database has pg_trgm) and whose
    words match best."""
    if not title.strip():
        raise InvalidInput("Give a title to compare.", code="empty_title", field="title")
    return await similar.similar_tickets(conn, actor, title.strip(), limit=limit)


@router.get(
    "/tickets/{id}",
    operation_id="getTicket",
    responses={
        200: {
            "description": "The ticket with its conversation and files.",
            "links": {k: v for k, v in _LINKS_TO_A_TICKET.items() if k != "getTicket"},
        },
        **problem_responses(Unauthorized, NotFound),
    },
)
async def get_ticket(
    id: TicketRef, actor: CurrentUser, conn: Transaction, response: Response, settings: AppSettings
) -> TicketDetail:
    """One ticket with its conversation and files."""
    return await _page(conn, actor, settings, response, await get_readable_ticket(conn, actor, id))


@router.put(
    "/tickets/{id}",
    operation_id="updateTicket",
    responses=problem_responses(
        Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, InvalidInput
    ),
)
async def update_ticket(
    id: TicketRef,
    body: TicketUpdate,
    actor: CurrentUser,
    conn: Transaction,
    response: Response,
    settings: AppSettings,
    if_match: IfMatch = None,
) -> TicketDetail:
    """Change a ticket's fields or status."""
    ticket = await service.update_ticket(
        conn, actor, id, body, if_match=if_match, reopen_window=settings.reopen_window
    )
    return await _page(conn, actor, settings, response, ticket)


@router.delete(
    "/tickets/{id}/close",
    operation_id="closeTicket",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed),
)
async def close_ticket(
    id: TicketRef,
    actor: CurrentUser,
    conn: Transaction,
    response: Response,
    settings: AppSettings,
    if_match: IfMatch = None,
) -> TicketDetail:
    """Close a ticket (staff), or accept its resolution (the submitter)."""
    ticket = await service.close_ticket(conn, actor, id, if_match=if_match)
    return await _page(conn, actor, settings, response, ticket)


@router.put(
    "/tickets/{id}/assign",
    operation_id="assignTicket",
    responses=problem_responses(
        Unauthorized, Forbidden, NotFound, PreconditionFailed, InvalidInput
    ),
)
async def assign_ticket(
    id: TicketRef,
    body: Assignment,
    actor: CurrentUser,
    conn: Transaction,
    response: Response,
    settings: AppSettings,
    if_match: IfMatch = None,
) -> TicketDetail:
    """Assign a ticket to an agent, or unassign it with null, and to a team with
    ``team_id`` (null: none; absent: the team stays) (staff)."""
    team = (body.team_id,) if "team_id" in body.model_fields_set else None
    ticket = await service.assign_ticket(
        conn, actor, id, body.assignee_id, team=team, if_match=if_match
    )
    return await _page(conn, actor, settings, response, ticket)


@router.post(
    "/tickets/bulk",
    operation_id="bulkUpdateTickets",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, InvalidInput),
)
async def bulk_update(
    body: BulkRequest, actor: CurrentAgent, conn: Transaction, audit: Audit
) -> BulkResult:
    """Assign, change status or priority, label or close many tickets at once, all or nothing."""
    result = await service.bulk_update(conn, actor, body)
    await audit(
        "ticket.bulk_updated",
        "ticket",
        None,
        after={
            "action": body.action,
            "value": body.value,
            "tickets": [{"id": str(t.id), "number": t.number} for t in result.items],
        },
    )
    return result


@router.put(
    "/tickets/{id}/follow",
    operation_id="followTicket",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def follow_ticket(id: TicketRef, actor: CurrentUser, conn: Transaction) -> FollowState:
    """Hear of the ticket's public replies and status changes (staff, its submitter, or
    someone following it already)."""
    ticket = await get_readable_ticket(conn, actor, id)
    return await followers.follow(conn, actor, ticket)


@router.delete(
    "/tickets/{id}/follow",
    operation_id="unfollowTicket",
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def unfollow_ticket(id: TicketRef, actor: CurrentUser, conn: Transaction) -> FollowState:
    """Stop hearing of the ticket (its submitter: its mail stops until they follow it again)."""
    ticket = await get_readable_ticket(conn, actor, id)
    return await followers.unfollow(conn, actor, ticket)


@router.delete(
    "/tickets/{id}/followers/{follower_id}",
    operation_id="removeFollower",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(Unauthorized, Forbidden, NotFound),
)
async def remove_follower(
    id: TicketRef, follower_id: UUID, actor: CurrentAgent, conn: Transaction
) -> None:
    """Take a follower (a person or an address) off the ticket (staff)."""
    ticket = await get_visible_ticket(conn, actor, id)
    await followers.remove_follower(conn, ticket, follower_id)
