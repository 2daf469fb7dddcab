"""Tickets as reports tests make them: through the API, and figures read back."""

from datetime import UTC, date, datetime
from typing import Any

from tests.factories import Accounts, Person
from ticketdesk.changes import Change, record_change
from ticketdesk.db import Connection

REPORTS = "/api/v1/reports"


def today() -> date:
    """Today in the rollups' zone (UTC unless rebuilt in another)."""
    return datetime.now(UTC).date()


async def open_ticket(person: Person, **body: Any) -> dict[str, Any]:
    """A ticket ``person`` opens through the API."""
    response = await person.client.post(
        "/api/v1/tickets",
        json={
            "type": "bug",
            "priority": "medium",
            "title": "The invoice total is wrong",
            "description": "It adds the shipping twice.",
            **body,
        },
    )
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def change(person: Person, ticket: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """``person`` changes the ticket's fields through the API."""
    response = await person.client.put(f"/api/v1/tickets/{ticket['id']}", json=fields)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def reply(person: Person, ticket: dict[str, Any], *, internal: bool = False) -> None:
    """``person`` replies on the ticket (or writes a note)."""
    response = await person.client.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"comment": "Looking into it.", "is_internal": internal},
    )
    assert response.status_code == 201, response.text


async def make_labels(accounts: Accounts, *names: str) -> None:
    """Labels an admin adds."""
    for name in names:
        response = await accounts.admin.client.post("/api/v1/labels", json={"name": name})
        assert response.status_code == 201, response.text


async def rate(
    conn: Connection, submitter: Person, ticket: dict[str, Any], rating: str, previous: str | None
) -> None:
    """The submitter's rating, announced as the ``csat`` domain announces it."""
    async with conn.transaction():
        await record_change(
            conn,
            Change(
                ticket_id=ticket["id"],
                kind="rated",
                actor_id=submitter.user.id,
                data={"rating": rating, "previous": previous},
            ),
        )


async def report(
    person: Person, name: str, start: date, end: date, **params: Any
) -> dict[str, Any]:
    """A report as ``person`` reads it."""
    response = await person.client.get(
        f"{REPORTS}/{name}", params={"from": start.isoformat(), "to": end.isoformat(), **params}
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def by_name(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The report's series by name."""
    return {series["name"]: series for series in found["series"]}


def points(series: dict[str, Any], *keys: str) -> list[Any]:
    """One figure of each of the series' points, following ``keys`` into the values."""
    out = []
    for point in series["points"]:
        value = point["values"]
        for key in keys:
            value = value[key]
        out.append(value)
    return out
