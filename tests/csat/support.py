"""A resolved ticket to rate, and reading a ticket's rating as each person sees it."""

from typing import Any

from tests.factories import Accounts, Person
from tests.notifications.support import open_ticket, set_status
from ticketdesk.db import Connection


async def resolved_ticket(accounts: Accounts) -> dict[str, Any]:
    """A ticket Alice opened and the agent resolved."""
    ticket = await open_ticket(accounts.alice)
    await set_status(accounts.agent, ticket, "resolved")
    return ticket


async def csat_of(person: Person, ticket: dict[str, Any]) -> Any:
    """The ticket page's ``csat`` as ``person`` gets it."""
    response = await person.client.get(f"/api/v1/tickets/{ticket['id']}")
    assert response.status_code == 200, response.text
    return response.json()["csat"]


async def rate(
    person: Person, ticket: dict[str, Any], rating: str, comment: str | None = None
) -> Any:
    """``person`` rates the ticket in the app: the response."""
    return await person.client.put(
        f"/api/v1/tickets/{ticket['id']}/rating", json={"rating": rating, "comment": comment}
    )


async def age_first_rating(conn: Connection, ticket: dict[str, Any], days: float) -> None:
    """Make the ticket's ratings look ``days`` older than they are."""
    await conn.execute(
        "update csat_rounds set rated_at = rated_at - make_interval(secs => %s),"
        " changed_at = changed_at - make_interval(secs => %s) where ticket_id = %s",
        (days * 86400, days * 86400, ticket["id"]),
    )


async def rated_events(person: Person, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``rated`` events of the ticket's timeline as ``person`` sees it."""
    response = await person.client.get(f"/api/v1/tickets/{ticket['id']}/events")
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["kind"] == "rated"]
