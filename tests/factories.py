"""Plain functions that make rows the way the product would, for tests to build on."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from ticketdesk import ticket_detail
from ticketdesk.auth import service as auth
from ticketdesk.auth.service import Actor
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.ticket_detail import TicketDetail
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import TicketCreate
from ticketdesk.users.schemas import Role, User
from ticketdesk.users.service import create_user

PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    """A user, as a test sees them: the account and a client signed in as them."""

    user: User
    client: AsyncClient

    @property
    def actor(self) -> Actor:
        """The user as the services see them."""
        return Actor(
            id=self.user.id, email=self.user.email, name=self.user.name, role=self.user.role
        )


@dataclass
class Accounts:
    """The cast of most tests."""

    admin: Person
    agent: Person
    alice: Person
    bob: Person


async def make_user(
    conn: Connection, *, role: Role = "user", name: str = "Test User", email: str | None = None
) -> User:
    """An account with the test password."""
    import uuid

    address = email or f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}@example.com"
    return await create_user(
        conn, email=address, name=name, role=role, password=PASSWORD, internal_domains=()
    )


@asynccontextmanager
async def signed_in(app: FastAPI, conn: Connection, user: User) -> AsyncIterator[AsyncClient]:
    """A client that authenticates as ``user`` with a personal access token."""
    token = await auth.create_token(conn, user.id, "tests")
    async with AsyncClient(
        transport=ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {token.token}"},
    ) as client:
        yield client


@asynccontextmanager
async def make_accounts(app: FastAPI, conn: Connection) -> AsyncIterator[Accounts]:
    """Create the cast and sign each of them in."""
    async with AsyncExitStack() as stack:
        people = {}
        for key, role, name in (
            ("admin", "admin", "Ada Admin"),
            ("agent", "agent", "Aaron Agent"),
            ("alice", "user", "Alice Submitter"),
            ("bob", "user", "Bob Submitter"),
        ):
            user = await make_user(conn, role=role, name=name)  # type: ignore[arg-type]
            client = await stack.enter_async_context(signed_in(app, conn, user))
            people[key] = Person(user=user, client=client)
        yield Accounts(**people)


def ticket_body(**overrides: Any) -> dict[str, Any]:
    """A valid ticket-creation body."""
    body: dict[str, Any] = {
        "type": "bug",
        "priority": "medium",
        "title": "The export button does nothing",
        "description": "Clicking Export on the reports page shows no file and no error.",
    }
    body.update(overrides)
    return body


async def create_ticket(conn: Connection, submitter: Person, **overrides: Any) -> TicketDetail:
    """A ticket opened by ``submitter``, as they see it."""
    async with conn.transaction():
        ticket, _ = await tickets.create_ticket(
            conn, submitter.actor, TicketCreate(**ticket_body(**overrides)), idempotency_key=None
        )
    return await ticket_detail.assemble(
        conn, submitter.actor, ticket, reopen_window=Settings().reopen_window
    )
