"""Live updates as server-sent events."""

from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRouter
from pydantic import BaseModel

from ticketdesk.auth.dependencies import CredentialsRecheck, CurrentUser
from ticketdesk.errors import Unauthorized, problem_responses
from ticketdesk.events.schemas import LiveEvent
from ticketdesk.live import service
from ticketdesk.live.hub import Hub
from ticketdesk.live.schemas import STREAM_EVENTS, LiveGitHub, LivePresence, LiveReset

router = APIRouter(tags=["events"])


async def live_hub(request: Request) -> Hub:
    """The running app's listener and its streams."""
    hub: Hub = request.app.state.live
    return hub


async def live_timing(request: Request) -> service.Timing:
    """How often streams send heartbeats and check their credentials."""
    timing: service.Timing = request.app.state.live_timing
    return timing


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` response, never buffered or stored on the way."""

    media_type = "text/event-stream"


_STREAM_DESCRIPTION = """\
A `text/event-stream`. First `retry: 3000`; then each ticket event the caller may see
(the timeline's rules: staff see every ticket's events, internal ones too; a submitter the
public events of their own tickets) as `id: <event id>`, `event: ticket` and `data:` one
`LiveEvent` in JSON. Staff also get `event: presence` with `data: {"ticket_id": …}` (no
id) when who is on a ticket changes, and `event: github` with `data: {"ticket_id": …}`
(no id) when the state of a ticket's GitHub link changes. `event: reset` with
`data: {"reason": …}` means events were missed that cannot be replayed: reload what is
shown (the stream goes on).
A comment line `: ping` comes every 15 s. The stream ends when the server stops or the
session or token ends (the next connection then gets a 401).

On reconnecting, send the last id received in `Last-Event-ID` (browsers do) or
`?last_event_id=`: the events since are replayed, starting a few seconds before that
event since transactions commit out of order, so an event may come twice: drop events
whose id was seen. Too many missed events, or an id that is unknown or more than an
hour old, get `event: reset` instead.
"""


def _frame_schema(event: str, data: type[BaseModel], *, with_id: bool) -> dict[str, Any]:
    """One kind of frame: its ``event``, its ``data`` (``data``'s model in JSON), its id."""
    properties: dict[str, Any] = {
        "event": {"const": event},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": f"#/components/schemas/{data.__name__}"},
        },
    }
    if with_id:
        properties["id"] = {"type": "string", "format": "uuid"}
    return {
        "type": "object",
        "properties": properties,
        "required": ["event", "data", *(["id"] if with_id else [])],
    }


# The data models as the response's model, so they are among the document's schemas; the
# frames (OpenAPI 3.2's itemSchema) one kind for each ``event``.
_STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "model": LiveEvent | LivePresence | LiveGitHub | LiveReset,
        "description": _STREAM_DESCRIPTION,
    }
}
_STREAM_FRAMES = {
    "responses": {
        "200": {
            "content": {
                "text/event-stream": {
                    "itemSchema": {
                        "oneOf": [
                            _frame_schema(event, data, with_id=with_id)
                            for event, (data, with_id) in STREAM_EVENTS.items()
                        ]
                    }
                }
            }
        }
    }
}


@router.get(
    "/events/stream",
    operation_id="streamEvents",
    response_class=EventSourceResponse,
    responses={**_STREAM_RESPONSE, **problem_responses(Unauthorized)},
    openapi_extra=_STREAM_FRAMES,
)
async def stream_events(
    actor: CurrentUser,
    recheck: CredentialsRecheck,
    hub: Annotated[Hub, Depends(live_hub)],
    timing: Annotated[service.Timing, Depends(live_timing)],
    last_event_id_header: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="The last event id received: what came after it is replayed.",
        ),
    ] = None,
    last_event_id: Annotated[
        str | None, Query(description="`Last-Event-ID`, for clients that cannot set headers.")
    ] = None,
) -> EventSourceResponse:
    """Ticket changes as they happen, as server-sent events."""
    stream = service.event_stream(
        hub,
        actor,
        last_event_id=last_event_id_header or last_event_id,
        recheck=recheck,
        timing=timing,
    )
    return EventSourceResponse(
        stream, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
