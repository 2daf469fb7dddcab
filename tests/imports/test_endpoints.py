"""Importing tickets from a CSV file: ``/api/v1/imports`` (upload, dry run, apply)."""

import csv
import io
from typing import Any

from httpx import AsyncClient

from tests.factories import Accounts
from ticketdesk.db import Connection
from ticketdesk.fields import service as fields
from ticketdesk.fields.schemas import CustomFieldCreate
from ticketdesk.labels import service as labels
from ticketdesk.labels.schemas import LabelCreate

IMPORTS = "/api/v1/imports"
HEADER = ["Ref", "Subject", "Body", "From", "Name", "Owner", "Prio", "State", "Tags", "Opened"]
MAPPING: dict[str, Any] = {
    "columns": {
        "Ref": "external_id",
        "Subject": "title",
        "Body": "description",
        "From": "submitter_email",
        "Name": "submitter_name",
        "Owner": "assignee_email",
        "Prio": "priority",
        "State": "status",
        "Tags": "labels",
        "Opened": "created_at",
    },
    "label_separator": ";",
    "values": {"priority": {"Urgent": "critical"}, "status": {"Done": "resolved"}},
}


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _row(ref: str, **cells: str) -> list[str]:
    row = {
        "Ref": ref,
        "Subject": f"Printer {ref} jams on every page",
        "Body": f"The printer {ref} on floor 3 jams on every second page since Monday.",
        "From": "carol@customer.example",
        "Name": "Carol Customer",
        "Owner": "",
        "Prio": "High",
        "State": "open",
        "Tags": "",
        "Opened": "2024-03-01T09:30:00+00:00",
    }
    row.update(cells)
    return [row[name] for name in HEADER]


async def _upload(client: AsyncClient, data: bytes, filename: str = "old.csv") -> dict[str, Any]:
    response = await client.post(
        IMPORTS,
        params={"filename": filename},
        content=data,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def _counts(conn: Connection) -> dict[str, int]:
    cur = await conn.execute(
        "select (select count(*) from tickets) as tickets,"
        " (select count(*) from users) as users,"
        " (select count(*) from ticket_events) as events,"
        " (select count(*) from procrastinate_jobs) as jobs"
    )
    row = await cur.fetchone()
    assert row is not None
    return dict(row)


class TestUploadImport:
    async def test_columns_and_first_rows(self, accounts: Accounts) -> None:
        rows = [_row(str(n)) for n in range(1, 8)]

        found = await _upload(accounts.admin.client, _csv(rows), "helpdesk.csv")

        assert found["filename"] == "helpdesk.csv"
        assert found["columns"] == HEADER
        assert found["row_count"] == 7
        assert found["sample"] == rows[:5]
        assert found["applied_at"] is None

    async def test_semicolons_and_byte_order_mark(self, accounts: Accounts) -> None:
        data = "\ufeffSubject;Body\nA;B\n".encode()

        found = await _upload(accounts.admin.client, data)

        assert found["columns"] == ["Subject", "Body"]
        assert found["sample"] == [["A", "B"]]

    async def test_not_utf8(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.post(
            IMPORTS,
            content="Subject\nCaf\u00e9\n".encode("latin-1"),
            headers={"Content-Type": "text/csv"},
        )

        assert response.status_code == 422
        assert response.json()["field"] == "file"

    async def test_duplicate_column_names(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.post(
            IMPORTS, content=b"Subject,Subject\na,b\n", headers={"Content-Type": "text/csv"}
        )

        assert response.status_code == 422
        assert response.json()["code"] == "bad_csv"

    async def test_header_without_rows(self, accounts: Accounts, conn: Connection) -> None:
        response = await accounts.admin.client.post(
            IMPORTS, content=_csv([]), headers={"Content-Type": "text/csv"}
        )

        assert response.status_code == 422
        assert (response.json()["code"], response.json()["field"]) == ("bad_csv", "file")
        cur = await conn.execute("select count(*) as imports from imports")
        assert await cur.fetchone() == {"imports": 0}

    async def test_not_csv(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.post(IMPORTS, json={"Subject": "x"})

        assert response.status_code == 415

    async def test_over_the_row_cap(self, accounts: Accounts, conn: Connection) -> None:
        data = b"Subject\n" + b"a\n" * 50_001

        response = await accounts.admin.client.post(
            IMPORTS, content=data, headers={"Content-Type": "text/csv"}
        )

        assert response.status_code == 413
        assert response.json()["code"] == "too_many_rows"
        cur = await conn.execute("select count(*) as n from imports")
        assert (await cur.fetchone()) == {"n": 0}

    async def test_agent(self, accounts: Accounts) -> None:
        response = await accounts.agent.client.post(
            IMPORTS, content=_csv([_row("1")]), headers={"Content-Type": "text/csv"}
        )

        assert response.status_code == 403


class TestDryRunImport:
    async def test_each_bad_row_named_and_nothing_written(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await labels.create_label(conn, LabelCreate(name="Hardware"))
        upload = await _upload(
            accounts.admin.client,
            _csv(
                [
                    _row("1", Tags="hardware"),
                    _row("2", Subject="Short"),
                    _row("3", Prio="Whenever", From="not an address"),
                    _row("4", Owner=accounts.alice.user.email),
                    _row("5", Tags="Hardware;Printers", Opened="yesterday"),
                    _row("6"),
                ]
            ),
        )
        before = await _counts(conn)

        response = await accounts.admin.client.post(
            f"{IMPORTS}/{upload['id']}/dry-run", json=MAPPING
        )

        assert response.status_code == 200, response.text
        result = response.json()
        assert [(e["row"], e["field"], e["column"]) for e in result["errors"]] == [
            (2, "title", "Subject"),
            (3, "priority", "Prio"),
            (3, "submitter_email", "From"),
            (4, "assignee_email", "Owner"),
            (5, "created_at", "Opened"),
            (5, "labels", "Tags"),
        ]
        assert (
            "'whenever' is not one of low, medium, high, critical" in result["errors"][1]["message"]
        )
        assert result["errors"][5]["message"] == "No such label: Printers."
        assert result["would_create"] == 2
        assert result["new_submitters"] == 1
        assert result["preview"][0]["priority"] == "high"
        assert result["preview"][0]["labels"] == ["hardware"]
        assert await _counts(conn) == before

    async def test_value_mapping(self, accounts: Accounts) -> None:
        upload = await _upload(
            accounts.admin.client,
            _csv([_row("1", Prio="Urgent", State="Done"), _row("2", Prio="LOW", State="")]),
        )

        response = await accounts.admin.client.post(
            f"{IMPORTS}/{upload['id']}/dry-run", json=MAPPING
        )

        preview = response.json()["preview"]
        assert [(p["priority"], p["status"]) for p in preview] == [
            ("critical", "resolved"),
            ("low", "open"),
        ]
        assert response.json()["errors"] == []

    async def test_unknown_column(self, accounts: Accounts) -> None:
        upload = await _upload(accounts.admin.client, _csv([_row("1")]))
        mapping = {"columns": {**MAPPING["columns"], "Severity": "priority"}}

        response = await accounts.admin.client.post(
            f"{IMPORTS}/{upload['id']}/dry-run", json=mapping
        )

        assert response.status_code == 422
        assert response.json()["field"] == "columns.Severity"
        assert response.json()["code"] == "unknown_column"

    async def test_unknown_field(self, accounts: Accounts) -> None:
        upload = await _upload(accounts.admin.client, _csv([_row("1")]))
        mapping = {"columns": {**MAPPING["columns"], "Prio": "urgency"}}

        response = await accounts.admin.client.post(
            f"{IMPORTS}/{upload['id']}/dry-run", json=mapping
        )

        assert response.status_code == 422
        assert response.json()["field"] == "columns.Prio"
        assert response.json()["code"] == "unknown_field"

    async def test_field_mapped_twice(self, accounts: Accounts) -> None:
        upload = await _upload(accounts.admin.client, _csv([_row("1")]))
        mapping = {"columns": {**MAPPING["columns"], "Name": "title"}}

        response = await accounts.admin.client.post(
            f"{IMPORTS}/{upload['id']}/dry-run", json=mapping
        )

        assert response.status_code == 422
        assert response.json()["field"] == "columns.Name"
        assert response.json()["code"] == "field_mapped_twice"

    async def test_required_field_not_mapped(self, accounts: Accounts) -> None:
        upload = await _upload(accounts.admin.client, _csv([_row("1")]))
        mapping = {"columns": {**MAPPING["columns"], "From": None}}

        response = await accounts.admin.client.post(
            f"{IMPORTS}/{upload['id']}/dry-run", json=mapping
        )

        assert response.status_code == 422
        assert response.json()["field"] == "columns"
        assert "submitter_email" in response.json()["detail"]

    async def test_unknown_custom_field(self, accounts: Accounts) -> None:
        upload = await _upload(accounts.admin.client, _csv([_row("1")]))
        mapping = {"columns": {**MAPPING["columns"], "Name": "cf.region"}}

        response = await accounts.admin.client.post(
            f"{IMPORTS}/{upload['id']}/dry-run", json=mapping
        )

        assert response.status_code == 422
        assert response.json()["field"] == "columns.Name"

    async def test_bad_value_mapping(self, accounts: Accounts) -> None:
        upload = await _upload(accounts.admin.client, _csv([_row("1")]))
        mapping = {**MAPPING, "values": {"priority": {"High": "very"}}}

        response = await accounts.admin.client.post(
            f"{IMPORTS}/{upload['id']}/dry-run", json=mapping
        )

        assert response.status_code == 422
        assert response.json()["field"] == "values.priority.High"

    async def test_unknown_import(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.post(
            f"{IMPORTS}/00000000-0000-0000-0000-000000000000/dry-run", json=MAPPING
        )

        assert response.status_code == 404


class TestApplyImport:
    async def test_bad_file_writes_nothing_then_fixed_file_imports_fully(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        rows = [_row(str(n)) for n in range(1, 6)]
        bad = await _upload(accounts.admin.client, _csv([*rows, _row("6", Body="Too short")]))
        before = await _counts(conn)

        refused = await accounts.admin.client.post(f"{IMPORTS}/{bad['id']}/apply", json=MAPPING)

        assert refused.status_code == 409
        assert refused.json()["code"] == "import_rows_invalid"
        assert await _counts(conn) == before

        fixed = await _upload(accounts.admin.client, _csv([*rows, _row("6")]))
        applied = await accounts.admin.client.post(f"{IMPORTS}/{fixed['id']}/apply", json=MAPPING)

        assert applied.status_code == 200, applied.text
        result = applied.json()["result"]
        assert result["created"] == 6
        assert result["new_submitters"] == 1
        assert result["last_number"] - result["first_number"] == 5
        after = await _counts(conn)
        assert after["tickets"] == before["tickets"] + 6
        assert after["users"] == before["users"] + 1
        # One event a ticket, and no job: no mail, GitHub issue or webhook delivery.
        assert after["events"] == before["events"] + 6
        assert after["jobs"] == before["jobs"]

    async def test_imported_ticket_as_staff_see_it(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await labels.create_label(conn, LabelCreate(name="Hardware"))
        await labels.create_label(conn, LabelCreate(name="Printers"))
        await fields.create_field(
            conn, CustomFieldCreate(key="seats", label="Seats", type="number")
        )
        header = [*HEADER, "Resolved", "Seats"]
        row = _row(
            "T-9",
            Owner=accounts.agent.user.email,
            Prio="Urgent",
            State="Done",
            Tags="hardware; Printers",
        )
        upload = await _upload(
            accounts.admin.client, _csv([[*row, "2024-03-02 17:00", "12"]], header)
        )
        mapping = {
            **MAPPING,
            "columns": {**MAPPING["columns"], "Resolved": "resolved_at", "Seats": "cf.seats"},
        }

        applied = await accounts.admin.client.post(f"{IMPORTS}/{upload['id']}/apply", json=mapping)
        number = applied.json()["result"]["first_number"]
        ticket = (await accounts.admin.client.get(f"/api/v1/tickets/{number}")).json()
        events = (await accounts.admin.client.get(f"/api/v1/tickets/{ticket['id']}/events")).json()

        assert ticket["title"] == "Printer T-9 jams on every page"
        assert ticket["priority"] == "critical"
        assert ticket["status"] == "resolved"
        assert ticket["created_at"] == "2024-03-01T09:30:00Z"
        assert ticket["resolved_at"] == "2024-03-02T17:00:00Z"
        assert ticket["assigned_to"]["id"] == str(accounts.agent.user.id)
        assert ticket["submitter"]["name"] == "Carol Customer"
        assert ticket["tags"] == ["Hardware", "Printers"]
        assert ticket["custom_fields"] == {"seats": 12}
        assert [e["kind"] for e in events["items"]] == ["created"]
        assert events["items"][0]["data"]["imported"] == {
            "import_id": upload["id"],
            "source": "csv",
        }
        cur = await conn.execute(
            "select password_hash, email_verified_at from users where email = %s",
            ("carol@customer.example",),
        )
        assert await cur.fetchone() == {"password_hash": None, "email_verified_at": None}

    async def test_imported_tickets_found_by_search_in_file_order(self, accounts: Accounts) -> None:
        rows = [_row(f"S-{n}", Subject=f"Zeppelin hangar door {n} stuck") for n in range(1, 4)]
        upload = await _upload(accounts.admin.client, _csv(rows))
        await accounts.admin.client.post(f"{IMPORTS}/{upload['id']}/apply", json=MAPPING)

        found = await accounts.agent.client.get("/api/v1/tickets", params={"q": "zeppelin"})
        listed = await accounts.admin.client.get(f"{IMPORTS}/{upload['id']}/tickets")

        assert sorted(t["title"] for t in found.json()["items"]) == [
            f"Zeppelin hangar door {n} stuck" for n in range(1, 4)
        ]
        numbers = [t["number"] for t in listed.json()]
        assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]

    async def test_same_external_ids_again_create_nothing(self, accounts: Accounts) -> None:
        data = _csv([_row("A-1"), _row("A-2")])
        first = await _upload(accounts.admin.client, data)
        await accounts.admin.client.post(f"{IMPORTS}/{first['id']}/apply", json=MAPPING)
        again = await _upload(accounts.admin.client, _csv([_row("A-1"), _row("A-2"), _row("A-3")]))

        dry = await accounts.admin.client.post(f"{IMPORTS}/{again['id']}/dry-run", json=MAPPING)
        applied = await accounts.admin.client.post(f"{IMPORTS}/{again['id']}/apply", json=MAPPING)

        assert (dry.json()["would_create"], dry.json()["already_imported"]) == (1, 2)
        result = applied.json()["result"]
        assert (result["created"], result["already_imported"]) == (1, 2)

    async def test_external_id_twice_in_one_file(self, accounts: Accounts) -> None:
        upload = await _upload(accounts.admin.client, _csv([_row("B-1"), _row("B-1")]))

        dry = await accounts.admin.client.post(f"{IMPORTS}/{upload['id']}/dry-run", json=MAPPING)

        assert [(e["row"], e["field"]) for e in dry.json()["errors"]] == [(2, "external_id")]

    async def test_applied_once_only(self, accounts: Accounts) -> None:
        upload = await _upload(accounts.admin.client, _csv([_row("C-1")]))
        await accounts.admin.client.post(f"{IMPORTS}/{upload['id']}/apply", json=MAPPING)

        again = await accounts.admin.client.post(f"{IMPORTS}/{upload['id']}/apply", json=MAPPING)
        shown = await accounts.admin.client.get(f"{IMPORTS}/{upload['id']}")

        assert again.status_code == 409
        assert again.json()["code"] == "import_applied"
        assert shown.json()["result"]["created"] == 1
        assert shown.json()["sample"] == []

    async def test_five_thousand_rows(self, accounts: Accounts, conn: Connection) -> None:
        rows = [_row(f"L-{n}", From=f"customer{n % 50}@customer.example") for n in range(1, 5001)]
        upload = await _upload(accounts.admin.client, _csv(rows))

        dry = await accounts.admin.client.post(f"{IMPORTS}/{upload['id']}/dry-run", json=MAPPING)
        applied = await accounts.admin.client.post(f"{IMPORTS}/{upload['id']}/apply", json=MAPPING)

        assert dry.json()["errors"] == []
        assert applied.json()["result"]["created"] == 5000
        assert applied.json()["result"]["new_submitters"] == 50
        cur = await conn.execute("select count(*) as n from imported_tickets")
        assert await cur.fetchone() == {"n": 5000}


class TestListImportedTickets:
    async def test_in_file_order_by_pages(self, accounts: Accounts) -> None:
        upload = await _upload(accounts.admin.client, _csv([_row(f"P-{n}") for n in range(1, 4)]))
        await accounts.admin.client.post(f"{IMPORTS}/{upload['id']}/apply", json=MAPPING)
        url = f"{IMPORTS}/{upload['id']}/tickets"

        first = (await accounts.admin.client.get(url, params={"limit": 2})).json()
        rest = (await accounts.admin.client.get(url, params={"after_row": 2})).json()

        assert [(t["row"], t["external_id"]) for t in first] == [(1, "P-1"), (2, "P-2")]
        assert [t["title"] for t in rest] == ["Printer P-3 jams on every page"]
        assert first[1]["number"] == first[0]["number"] + 1
