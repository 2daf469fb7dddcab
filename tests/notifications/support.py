"""Reading the mail a test's SMTP server received, and waiting for the queue to settle."""

from email.message import EmailMessage
from typing import Any

from tests.factories import Person, ticket_body
from tests.jobs.waiting import eventually
from tests.mailservers import SmtpServer
from ticketdesk.db import Connection
from ticketdesk.mail.addresses import address_of


def plain(message: EmailMessage) -> str:
    """The text part."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html(message: EmailMessage) -> str:
    """The HTML part."""
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def mail_to(smtp_server: SmtpServer, person: Person) -> list[EmailMessage]:
    """What ``person`` received so far, in order."""
    return [m for m in smtp_server.messages if address_of(m["To"]) == person.user.email]


async def _quiet(conn: Connection) -> bool:
    cur = await conn.execute(
        "select (select count(*) from procrastinate_jobs"
        "        where task_name = 'notifications.send' and status in ('todo', 'doing'))"
        "     + (select count(*) from notification_batches) as busy"
    )
    row = await cur.fetchone()
    assert row is not None
    return bool(row["busy"] == 0)


async def settled(conn: Connection) -> None:
    """Wait until every burst has been gathered and every mail job has finished."""
    await eventually(lambda: _quiet(conn), what="the mail queue to settle")


async def open_ticket(person: Person, **overrides: Any) -> dict[str, Any]:
    """A ticket ``person`` opens through the API."""
    response = await person.client.post("/api/v1/tickets", json=ticket_body(**overrides))
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def comment(
    person: Person, ticket: dict[str, Any], text: str, *, internal: bool = False
) -> None:
    """``person`` replies on the ticket, or writes an internal note."""
    response = await person.client.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"comment": text, "is_internal": internal},
    )
    assert response.status_code == 201, response.text


async def set_status(person: Person, ticket: dict[str, Any], status: str) -> None:
    """``person`` moves the ticket to ``status``."""
    response = await person.client.put(f"/api/v1/tickets/{ticket['id']}", json={"status": status})
    assert response.status_code == 200, response.text


async def assign(person: Person, ticket: dict[str, Any], assignee: Person) -> None:
    """``person`` assigns the ticket to ``assignee``."""
    response = await person.client.put(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"assignee_id": str(assignee.user.id)}
    )
    assert response.status_code == 200, response.text
