"""``ticketdesk import django-helpdesk``: a real django-helpdesk's tickets (its own schema,
migrated by Django; its own REST API, served by Django) as ticketdesk's users then see
them."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Accounts, signed_in
from tests.imports.conftest import Helpdesk
from tests.mailservers import free_port
from ticketdesk.cli import main
from ticketdesk.db import Connection
from ticketdesk.errors import NotFound
from ticketdesk.imports import django_helpdesk
from ticketdesk.users import service as users

# One worker migrates and serves the django-helpdesk (about 40 s), for all of these.
pytestmark = pytest.mark.xdist_group("django_helpdesk")

PRINTER = "The printer on floor 2 jams on every page"
NOTE = "Firmware 2.1 is known to do this; do not tell the customer yet."


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment of an operator pointing ticketdesk at the test's database."""
    for key, value in {
        "DATABASE_URL": database_url,
        "TICKETDESK_DATA_DIR": str(tmp_path / "data"),
        "TICKETDESK_LOG_LEVEL": "warning",
        "TICKETDESK_SECRET_KEY": "import-test-secret-key-that-is-long-enough-0123",
    }.items():
        monkeypatch.setenv(key, value)


async def _import(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    """Run the command as an operator would; the lines it printed."""
    await asyncio.to_thread(main, ["import", "django-helpdesk", *args])
    return capsys.readouterr().out.splitlines()


async def _refused(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    """Run the command, which fails with status 1; the lines it printed, or its message."""
    with pytest.raises(SystemExit) as exit:
        await asyncio.to_thread(main, ["import", "django-helpdesk", *args])
    if isinstance(exit.value.code, str):
        return [exit.value.code]
    assert exit.value.code == 1
    return capsys.readouterr().out.splitlines()


async def _tickets(client: AsyncClient) -> dict[str, dict[str, Any]]:
    response = await client.get("/api/v1/tickets", params={"limit": 100})
    assert response.status_code == 200, response.text
    return {ticket["title"]: ticket for ticket in response.json()["items"]}


async def _comments(client: AsyncClient, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/tickets/{ticket['id']}/comments")
    assert response.status_code == 200, response.text
    comments: list[dict[str, Any]] = response.json()
    return comments


async def _labels(client: AsyncClient) -> list[str]:
    response = await client.get("/api/v1/labels")
    assert response.status_code == 200, response.text
    return sorted(label["name"] for label in response.json())


@pytest.mark.usefixtures("env")
class TestImportFromTheDatabase:
    async def test_tickets_as_staff_see_them(
        self, helpdesk: Helpdesk, accounts: Accounts, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = await _import(
            capsys, "--database-url", helpdesk.database_url, "--as", accounts.admin.user.email
        )

        assert out[:3] == ["5 tickets read", "5 were created", "0 imported before, skipped"]
        assert "agents were created: ada@helpdesk.example.com, root@helpdesk.example.com" in out
        assert "accounts of submitters were created: 3" in out
        assert "attachments not imported: 1 (their files are on the django-helpdesk server)" in out
        seen = await _tickets(accounts.agent.client)
        shown = {
            title: (t["status"], t["priority"], t["tags"], t["submitter"]["email"])
            for title, t in seen.items()
        }
        assert shown == {
            PRINTER: ("open", "critical", ["Support desk"], "carol@customer.example.com"),
            "Refund (django-helpdesk #2)": (
                "resolved",
                "medium",
                ["Billing invoices"],
                "dave@customer.example.com",
            ),
            "Printer jams again on the second floor": (
                "closed",
                "low",
                ["Support desk", "duplicate"],
                "erin@customer.example.com",
            ),
            "VPN drops every ten minutes": (
                "waiting",
                "high",
                ["Support desk"],
                "carol@customer.example.com",
            ),
            "Old invoice address on the PDF": (
                "closed",
                "low",
                ["Billing invoices"],
                accounts.admin.user.email,
            ),
        }
        printer = seen[PRINTER]
        assert printer["created_at"] == "2024-03-01T09:00:00Z"
        assert printer["assigned_to"]["name"] == "Ada Agent"
        assert printer["assigned_to"]["role"] == "agent"
        refund = seen["Refund (django-helpdesk #2)"]
        assert refund["description"] == (
            "Charged twice.\n\n(Imported from django-helpdesk ticket #2.)"
        )
        assert refund["resolved_at"] == "2024-03-04T16:00:00Z"
        conversation = [
            (c["author"]["name"], c["is_internal"], c["comment"], c["created_at"])
            for c in await _comments(accounts.agent.client, printer)
        ]
        assert conversation == [
            ("carol", False, "It jams on duplex jobs too.", "2024-03-01T11:00:00Z"),
            ("Ada Agent", True, NOTE, "2024-03-01T12:00:00Z"),
            (
                "Ada Agent",
                False,
                "We are sending a technician tomorrow morning.",
                "2024-03-02T10:00:00Z",
            ),
        ]
        assert await _labels(accounts.agent.client) == [
            "Billing invoices",
            "Support desk",
            "duplicate",
        ]

    async def test_internal_notes_stay_internal(
        self,
        app: FastAPI,
        conn: Connection,
        helpdesk: Helpdesk,
        accounts: Accounts,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        await _import(
            capsys, "--database-url", helpdesk.database_url, "--as", accounts.admin.user.email
        )

        carol = await users.get_user_by_email(conn, "carol@customer.example.com")
        assert carol.role == "user"
        async with signed_in(app, conn, carol) as client:
            mine = await _tickets(client)
            assert sorted(mine) == [PRINTER, "VPN drops every ten minutes"]
            bodies = [c["comment"] for c in await _comments(client, mine[PRINTER])]
        assert bodies == [
            "It jams on duplex jobs too.",
            "We are sending a technician tomorrow morning.",
        ]
        found = await accounts.alice.client.get("/api/v1/tickets", params={"q": "firmware"})
        assert found.json()["items"] == []

    async def test_importing_again_creates_nothing_twice(
        self, helpdesk: Helpdesk, accounts: Accounts, capsys: pytest.CaptureFixture[str]
    ) -> None:
        args = ("--database-url", helpdesk.database_url, "--as", accounts.admin.user.email)
        await _import(capsys, *args)

        again = await _import(capsys, *args)

        assert again == [
            "5 tickets read",
            "0 were created",
            "5 imported before, skipped",
            "attachments not imported: 1 (their files are on the django-helpdesk server)",
        ]
        assert len(await _tickets(accounts.agent.client)) == 5

    async def test_dry_run_writes_nothing(
        self,
        conn: Connection,
        helpdesk: Helpdesk,
        accounts: Accounts,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        out = await _import(
            capsys,
            "--database-url",
            helpdesk.database_url,
            "--as",
            accounts.admin.user.email,
            "--dry-run",
        )

        assert out[:3] == ["5 tickets read", "5 would be created", "0 imported before, skipped"]
        assert "agents would be created: ada@helpdesk.example.com, root@helpdesk.example.com" in out
        assert "accounts of submitters would be created: 3" in out
        assert "labels would be created: Support desk, Billing invoices, duplicate" in out
        assert await _tickets(accounts.agent.client) == {}
        assert await _labels(accounts.agent.client) == []
        people = await conn.execute("select count(*) as n from users")
        assert (await people.fetchone()) == {"n": 4}

    async def test_a_failing_ticket_imports_nothing(
        self,
        conn: Connection,
        helpdesk: Helpdesk,
        accounts: Accounts,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        carol = await users.create_user(
            conn,
            email="carol@customer.example.com",
            name="Carol",
            role="user",
            password=None,
            internal_domains=(),
        )
        await conn.execute("update users set is_active = false where id = %s", (carol.id,))

        out = await _refused(
            capsys,
            "--database-url",
            helpdesk.database_url,
            "--as",
            accounts.admin.user.email,
        )

        assert out == [
            "5 tickets read",
            "3 tickets would not import; nothing was imported:",
            "  django-helpdesk ticket 1 (submitter_email): The account of"
            " carol@customer.example.com is deactivated.",
            "  django-helpdesk ticket 1 (comments.0.author_email): The account of"
            " carol@customer.example.com is deactivated.",
            "  django-helpdesk ticket 2 (comments.0.author_email): The account of"
            " carol@customer.example.com is deactivated.",
            "  django-helpdesk ticket 4 (submitter_email): The account of"
            " carol@customer.example.com is deactivated.",
        ]
        assert await _tickets(accounts.agent.client) == {}
        assert await _labels(accounts.agent.client) == []
        with pytest.raises(NotFound):
            await users.get_user_by_email(conn, "ada@helpdesk.example.com")

    async def test_not_a_django_helpdesk_database(
        self, database_url: str, accounts: Accounts, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = await _refused(
            capsys, "--database-url", database_url, "--as", accounts.admin.user.email
        )

        assert out == [
            "ticketdesk: Not a django-helpdesk database: it has no table helpdesk_queue,"
            " helpdesk_ticket, helpdesk_followup."
        ]

    async def test_an_unreachable_database(
        self, accounts: Accounts, capsys: pytest.CaptureFixture[str]
    ) -> None:
        port = free_port()  # nothing listens there
        url = f"postgresql://helpdesk:pw-s3cret@127.0.0.1:{port}/helpdesk"

        [line] = await _refused(capsys, "--database-url", url, "--as", accounts.admin.user.email)

        assert line.startswith(
            "ticketdesk: Cannot connect to the django-helpdesk database at"
            f" postgresql://127.0.0.1:{port}/helpdesk: "
        )
        assert "pw-s3cret" not in line

    async def test_only_an_admin_imports(
        self, helpdesk: Helpdesk, accounts: Accounts, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = await _refused(
            capsys,
            "--database-url",
            helpdesk.database_url,
            "--as",
            accounts.agent.user.email,
        )

        assert out == [f"ticketdesk: {accounts.agent.user.email} is not an admin."]
        assert await _tickets(accounts.agent.client) == {}


@pytest.mark.usefixtures("env")
class TestImportThroughTheApi:
    async def test_with_a_token(
        self, helpdesk: Helpdesk, accounts: Accounts, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = await _import(
            capsys,
            "--api-url",
            helpdesk.api_url,
            "--token",
            helpdesk.token,
            "--as",
            accounts.admin.user.email,
        )

        assert out[:2] == ["5 tickets read", "5 were created"]
        assert "attachments not imported: 1 (their files are on the django-helpdesk server)" in out
        seen = await _tickets(accounts.agent.client)
        printer = seen[PRINTER]
        assert (printer["status"], printer["priority"], printer["tags"]) == (
            "open",
            "critical",
            ["queue 1"],
        )
        assert printer["assigned_to"] is None
        assert printer["created_at"] == "2024-03-01T11:00:00Z"
        assert seen["VPN drops every ten minutes"]["status"] == "waiting"
        assert seen["Printer jams again on the second floor"]["tags"] == ["duplicate", "queue 1"]
        conversation = [
            (c["author"]["email"], c["is_internal"], c["comment"])
            for c in await _comments(accounts.agent.client, printer)
        ]
        admin = accounts.admin.user.email
        assert conversation == [
            ("carol@customer.example.com", False, "It jams on duplex jobs too."),
            (admin, True, f"(Written in django-helpdesk by its user 1.)\n\n{NOTE}"),
            (
                admin,
                False,
                "(Written in django-helpdesk by its user 1.)\n\n"
                "We are sending a technician tomorrow morning.",
            ),
        ]

    async def test_with_a_user_name_and_password(
        self, helpdesk: Helpdesk, accounts: Accounts, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = await _import(
            capsys,
            "--api-url",
            helpdesk.api_url,
            "--user",
            "root",
            "--password",
            "root-password",
            "--as",
            accounts.admin.user.email,
        )

        assert out[:2] == ["5 tickets read", "5 were created"]
        assert len(await _tickets(accounts.agent.client)) == 5

    async def test_a_wrong_token(
        self, helpdesk: Helpdesk, accounts: Accounts, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = await _refused(
            capsys,
            "--api-url",
            helpdesk.api_url,
            "--token",
            "not-the-token",
            "--as",
            accounts.admin.user.email,
        )

        assert out == [
            "ticketdesk: The django-helpdesk API refused the credentials (it needs a staff"
            " account)."
        ]
        assert await _tickets(accounts.agent.client) == {}

    async def test_a_wrong_address_is_named_without_credentials(
        self, helpdesk: Helpdesk, accounts: Accounts, capsys: pytest.CaptureFixture[str]
    ) -> None:
        wrong = helpdesk.api_url.replace("http://", "http://ada:pw-s3cret@") + "nothing/"

        [line] = await _refused(
            capsys, "--api-url", wrong, "--token", "t", "--as", accounts.admin.user.email
        )

        assert line == (
            "ticketdesk: The django-helpdesk API answered 404 to"
            f" {helpdesk.api_url}nothing/tickets/."
        )

    async def test_no_credentials(
        self, accounts: Accounts, capsys: pytest.CaptureFixture[str]
    ) -> None:
        url = f"http://127.0.0.1:{free_port()}/api/"  # not asked: refused before

        out = await _refused(capsys, "--api-url", url, "--as", accounts.admin.user.email)

        assert out == ["ticketdesk: --api-url needs --token, or --user and --password"]


class TestCheckingTickets:
    async def test_a_status_and_priority_of_the_sites_own(
        self, conn: Connection, accounts: Accounts
    ) -> None:
        # A site may add statuses and priorities to django-helpdesk's choices.
        helpdesk = django_helpdesk.Helpdesk(
            where="postgresql://127.0.0.1/helpdesk",
            tickets=[
                django_helpdesk.Ticket(
                    id=9,
                    queue=1,
                    title="Waiting for the vendor's answer",
                    description="The site added a status of its own for this.",
                    submitter_email="erin@customer.example.com",
                    assigned_to=None,
                    status=7,
                    on_hold=False,
                    priority=9,
                    created=None,
                    modified=None,
                    followups=[],
                )
            ],
            queues={1: "Support desk"},
        )

        async with conn.transaction(force_rollback=True):
            outcome = await django_helpdesk.run(
                conn,
                helpdesk,
                admin_email=accounts.admin.user.email,
                internal_domains=[],
                dry_run=True,
            )

        assert django_helpdesk.summary(outcome, dry_run=True) == [
            "1 tickets read",
            "1 tickets would not import; nothing was imported:",
            "  django-helpdesk ticket 9 (status): django-helpdesk status 7 is unknown.",
            "  django-helpdesk ticket 9 (priority): django-helpdesk priority 9 is unknown.",
        ]

    async def test_tickets_as_django_helpdesk_records_them(
        self, conn: Connection, accounts: Accounts
    ) -> None:
        # Its forms record a ticket's creation as a public follow-up repeating the
        # description; any account may own a ticket; an agent may lose is_staff later.
        description = "Every page of the report prints blank since the upgrade."
        helpdesk = django_helpdesk.Helpdesk(
            where="postgresql://127.0.0.1/helpdesk",
            tickets=[
                django_helpdesk.Ticket(
                    id=3,
                    queue=1,
                    title="Blank pages in the monthly report",
                    description=description,
                    submitter_email="erin@customer.example.com",
                    assigned_to=7,
                    status=1,
                    on_hold=False,
                    priority=3,
                    created=datetime(2024, 3, 1, 9, tzinfo=UTC),
                    modified=None,
                    followups=[
                        django_helpdesk.FollowUp(
                            date=datetime(2024, 3, 1, 9, tzinfo=UTC),
                            title="Ticket Opened",
                            comment=description,
                            public=True,
                            user=None,
                        ),
                        django_helpdesk.FollowUp(
                            date=datetime(2024, 3, 1, 10, tzinfo=UTC),
                            title="Comment",
                            comment="The old template is still cached.",
                            public=False,
                            user=8,
                        ),
                    ],
                )
            ],
            queues={1: "Support desk"},
            people={
                7: django_helpdesk.Person(
                    email="frank@customer.example.com", name="Frank", is_staff=False
                ),
                8: django_helpdesk.Person(
                    email="gina@helpdesk.example.com", name="Gina Former", is_staff=False
                ),
            },
        )

        outcome = await django_helpdesk.run(
            conn,
            helpdesk,
            admin_email=accounts.admin.user.email,
            internal_domains=[],
            dry_run=False,
        )

        assert outcome.errors == []
        [ticket] = (await _tickets(accounts.agent.client)).values()
        assert ticket["assigned_to"] is None
        conversation = [
            (c["author"]["email"], c["is_internal"], c["comment"])
            for c in await _comments(accounts.agent.client, ticket)
        ]
        assert conversation == [
            (
                accounts.admin.user.email,
                True,
                "(Written in django-helpdesk by Gina Former.)\n\nThe old template is still cached.",
            )
        ]

    async def test_staff_who_left_get_no_account(
        self, conn: Connection, accounts: Accounts
    ) -> None:
        helpdesk = django_helpdesk.Helpdesk(
            where="postgresql://127.0.0.1/helpdesk",
            tickets=[
                django_helpdesk.Ticket(
                    id=4,
                    queue=1,
                    title="The scanner sends empty mails",
                    description="Scans to e-mail arrive without an attachment.",
                    submitter_email="erin@customer.example.com",
                    assigned_to=9,
                    status=1,
                    on_hold=False,
                    priority=3,
                    created=datetime(2024, 3, 1, 9, tzinfo=UTC),
                    modified=None,
                    followups=[
                        django_helpdesk.FollowUp(
                            date=datetime(2024, 3, 1, 10, tzinfo=UTC),
                            title="Comment",
                            comment="Please send us the scanner's model.",
                            public=True,
                            user=9,
                        )
                    ],
                )
            ],
            queues={1: "Support desk"},
            people={
                9: django_helpdesk.Person(
                    email="hank@helpdesk.example.com",
                    name="Hank Left",
                    is_staff=True,
                    is_active=False,
                )
            },
        )

        outcome = await django_helpdesk.run(
            conn,
            helpdesk,
            admin_email=accounts.admin.user.email,
            internal_domains=[],
            dry_run=False,
        )

        assert (outcome.errors, outcome.staff_created) == ([], [])
        with pytest.raises(NotFound):
            await users.get_user_by_email(conn, "hank@helpdesk.example.com")
        [ticket] = (await _tickets(accounts.agent.client)).values()
        assert ticket["assigned_to"] is None
        conversation = [
            (c["author"]["email"], c["is_internal"], c["comment"])
            for c in await _comments(accounts.agent.client, ticket)
        ]
        assert conversation == [
            (
                accounts.admin.user.email,
                False,
                "(Written in django-helpdesk by Hank Left.)\n\nPlease send us the scanner's model.",
            )
        ]
