"""Exports: ``/api/v1/exports``, the job that writes the file, and its download."""

import asyncio
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.exports.support import EXPORTS, create, csv_rows, downloaded, finished, json_lines
from tests.factories import Accounts, Person, make_user, signed_in, ticket_body
from tests.fields.support import define
from tests.teams.test_endpoints import make_team
from tests.workers import running_worker
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.exports import writer
from ticketdesk.jobs import queue
from ticketdesk.labels import service as labels
from ticketdesk.labels.schemas import LabelCreate

NOTE = "Internal: refund approved under case RFD-90210, do not tell the customer yet."
PUBLIC = "We have shipped a fix; please try again."


async def _open(person: Person, **overrides: Any) -> dict[str, Any]:
    response = await person.client.post("/api/v1/tickets", json=ticket_body(**overrides))
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def _comment(person: Person, ticket: dict[str, Any], text: str, internal: bool) -> None:
    response = await person.client.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"comment": text, "is_internal": internal},
    )
    assert response.status_code == 201, response.text


async def _count(conn: Connection, table: str) -> int:
    cur = await conn.execute(f"select count(*) as n from {table}")  # noqa: S608
    row = await cur.fetchone()
    assert row is not None
    n: int = row["n"]
    return n


async def _export_jobs_run(conn: Connection) -> None:
    """Wait until no export job is left waiting or running (one that succeeds is deleted)."""
    async with asyncio.timeout(30):
        while True:
            cur = await conn.execute(
                "select count(*) as n from procrastinate_jobs"
                " where task_name like 'exports.%%' and status in ('todo', 'doing')"
            )
            row = await cur.fetchone()
            if row is not None and row["n"] == 0:
                return
            await asyncio.sleep(0.05)


def _export_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "attachments" / "exports"
    return sorted(root.iterdir()) if root.exists() else []


@pytest.fixture
async def commented(accounts: Accounts) -> dict[str, Any]:
    """Alice's ticket with a public reply from the agent and an internal note."""
    ticket = await _open(accounts.alice, title="Printer jams on every page")
    await _comment(accounts.agent, ticket, PUBLIC, internal=False)
    await _comment(accounts.agent, ticket, NOTE, internal=True)
    return ticket


class TestCreateExport:
    async def test_anonymous(self, anon: AsyncClient) -> None:
        assert (await anon.post(EXPORTS, json={"format": "csv"})).status_code == 401

    async def test_submitter(self, accounts: Accounts, conn: Connection) -> None:
        response = await accounts.alice.client.post(EXPORTS, json={"format": "csv"})

        assert response.status_code == 403
        assert await _count(conn, "exports") == 0

    async def test_queued_then_done(
        self, accounts: Accounts, app: FastAPI, settings: Settings, conn: Connection
    ) -> None:
        tickets = [
            await _open(accounts.alice, title=f"Ticket number {i} is broken") for i in range(3)
        ]
        made = await create(accounts.agent.client)

        assert made["status"] == "queued"
        assert made["rows_done"] == 0
        assert made["rows_total"] is None
        assert made["requested_by"]["id"] == str(accounts.agent.user.id)
        assert made["filename"].endswith(".csv")
        async with running_worker(app, settings):
            done = await finished(accounts.agent.client, made["id"])

        assert done["status"] == "done"
        assert done["rows_total"] == 3
        assert done["rows_done"] == 3
        assert done["error"] is None
        assert done["started_at"] is not None
        expires = datetime.fromisoformat(done["expires_at"])
        ended = datetime.fromisoformat(done["finished_at"])
        assert expires - ended == timedelta(days=7)
        text = await downloaded(accounts.agent.client, made["id"])
        assert done["size_bytes"] == len(text.encode())
        assert [row["number"] for row in csv_rows(text)] == [str(t["number"]) for t in tickets]
        assert len(_export_files(settings)) == 1

    async def test_agent_may_not_ask_for_notes(self, accounts: Accounts, conn: Connection) -> None:
        response = await accounts.agent.client.post(
            EXPORTS,
            json={"format": "csv", "include_comments": True, "include_internal_notes": True},
        )

        assert response.status_code == 403
        assert response.json()["field"] == "include_internal_notes"
        assert await _count(conn, "exports") == 0
        assert await _count(conn, "procrastinate_jobs") == 0

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"format": "xlsx"}, "format"),
            ({}, "format"),
            ({"format": "csv", "include_comments": "yes"}, "include_comments"),
            ({"format": "csv", "include_internal_notes": True}, "include_internal_notes"),
            ({"format": "csv", "filters": {"status": ["gone"]}}, "filters.status.0"),
            ({"format": "csv", "filters": {"colour": ["red"]}}, "filters.colour"),
            ({"format": "csv", "filters": {"created_after": "yesterday"}}, "filters.created_after"),
            ({"format": "csv", "filters": {"team": "everyone"}}, "filters.team"),
            (
                {"format": "csv", "filters": {"team": "00000000-0000-0000-0000-000000000009"}},
                "filters.team",
            ),
            ({"format": "csv", "filters": {"tags": ["no-such-label"]}}, "filters.tags"),
            (
                {"format": "csv", "filters": {"custom_fields": {"severity": ["major"]}}},
                "filters.custom_fields.severity",
            ),
            ({"format": "csv", "extra": 1}, "extra"),
        ],
    )
    async def test_bad_input(
        self, accounts: Accounts, conn: Connection, body: dict[str, Any], field: str
    ) -> None:
        response = await accounts.admin.client.post(EXPORTS, json=body)

        assert response.status_code == 422, response.text
        problem = response.json()
        named = [problem.get("field"), *(e["field"] for e in problem.get("errors") or [])]
        assert field in named
        assert await _count(conn, "exports") == 0


class TestContent:
    async def test_csv_columns(
        self, accounts: Accounts, app: FastAPI, settings: Settings, conn: Connection, worker: None
    ) -> None:
        await labels.create_label(conn, LabelCreate(name="Billing"))
        await define(accounts.admin, "severity", "select", options=["minor", "major"])
        await define(accounts.admin, "fraud_ref", "text", staff_only=True)
        team = await make_team(accounts, "Payments", [str(accounts.agent.user.id)])
        plain = await _open(accounts.alice, title="Invoice total is wrong", priority="low")
        full = await _open(
            accounts.agent,
            type="feature",
            priority="high",
            title="Export invoices to PDF files",
            tags=["billing"],
            custom_fields={"severity": "major", "fraud_ref": "FR-7"},
        )
        assigned = await accounts.agent.client.put(
            f"/api/v1/tickets/{full['id']}/assign",
            json={"assignee_id": str(accounts.agent.user.id), "team_id": team["id"]},
        )
        assert assigned.status_code == 200, assigned.text

        made = await create(accounts.agent.client)
        await finished(accounts.agent.client, made["id"])
        response = await accounts.agent.client.get(f"{EXPORTS}/{made['id']}/download")

        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert (
            response.headers["content-disposition"] == f'attachment; filename="{made["filename"]}"'
        )
        text = response.text
        header = text.splitlines()[0].split(",")
        assert header == [
            "number", "title", "status", "type", "priority", "submitter_email",
            "submitter_name", "assignee_email", "assignee_name", "team", "labels",
            "created_at", "updated_at", "resolved_at", "closed_at", "description",
            "cf.severity", "cf.fraud_ref",
        ]  # fmt: skip
        first, second = csv_rows(text)
        assert first["number"] == str(plain["number"])
        assert first["title"] == "Invoice total is wrong"
        assert first["priority"] == "low"
        assert first["submitter_email"] == accounts.alice.user.email
        assert first["assignee_email"] == ""
        assert first["cf.severity"] == ""
        assert first["created_at"] == datetime.fromisoformat(plain["created_at"]).isoformat()
        assert second["type"] == "feature"
        assert second["labels"] == "Billing"
        assert second["assignee_name"] == "Aaron Agent"
        assert second["team"] == "Payments"
        assert second["cf.severity"] == "major"
        assert second["cf.fraud_ref"] == "FR-7"
        assert second["description"] == full["description"]
        assert "comments" not in first

    async def test_json_lines(
        self, accounts: Accounts, commented: dict[str, Any], worker: None
    ) -> None:
        made = await create(accounts.agent.client, format="json", include_comments=True)
        await finished(accounts.agent.client, made["id"])
        response = await accounts.agent.client.get(f"{EXPORTS}/{made['id']}/download")

        assert response.headers["content-type"] == "application/x-ndjson"
        assert made["filename"].endswith(".jsonl")
        [ticket] = json_lines(response.text)
        assert ticket["number"] == commented["number"]
        assert ticket["id"] == commented["id"]
        assert ticket["title"] == "Printer jams on every page"
        assert ticket["submitter"] == {
            "email": accounts.alice.user.email,
            "name": "Alice Submitter",
        }
        assert ticket["assignee"] is None
        assert [(c["body"], c["internal"], c["author_name"]) for c in ticket["comments"]] == [
            (PUBLIC, False, "Aaron Agent")
        ]

    async def test_formula_cells_are_escaped(
        self, accounts: Accounts, conn: Connection, worker: None
    ) -> None:
        await define(accounts.admin, "balance", "number")
        await define(accounts.admin, "note", "text")
        await _open(
            accounts.agent,
            title='=HYPERLINK("http://evil.example","click")',
            custom_fields={"balance": -3, "note": "@SUM(A1:A9)"},
        )
        await _open(
            accounts.agent, title="+1 more crash on start-up", custom_fields={"note": "-2+3"}
        )

        made = await create(accounts.agent.client)
        await finished(accounts.agent.client, made["id"])
        first, second = csv_rows(await downloaded(accounts.agent.client, made["id"]))

        assert first["title"] == '\'=HYPERLINK("http://evil.example","click")'
        assert first["cf.note"] == "'@SUM(A1:A9)"
        assert first["cf.balance"] == "-3"  # a plain number stays one
        assert second["title"] == "'+1 more crash on start-up"
        assert second["cf.note"] == "'-2+3"


class TestInternalNotes:
    async def test_agent_export_has_no_note(
        self, accounts: Accounts, commented: dict[str, Any], worker: None
    ) -> None:
        made = await create(accounts.agent.client, include_comments=True)
        done = await finished(accounts.agent.client, made["id"])
        text = await downloaded(accounts.agent.client, made["id"])

        assert done["status"] == "done"
        assert PUBLIC in text
        assert NOTE not in text
        assert "RFD-90210" not in text
        [row] = csv_rows(text)
        assert [c["body"] for c in json.loads(row["comments"])] == [PUBLIC]

    async def test_admin_without_notes_has_no_note(
        self, accounts: Accounts, commented: dict[str, Any], worker: None
    ) -> None:
        for format in ("csv", "json"):
            made = await create(accounts.admin.client, format=format, include_comments=True)
            await finished(accounts.admin.client, made["id"])
            text = await downloaded(accounts.admin.client, made["id"])

            assert PUBLIC in text
            assert "RFD-90210" not in text

    async def test_admin_asking_gets_notes(
        self, accounts: Accounts, commented: dict[str, Any], worker: None
    ) -> None:
        made = await create(
            accounts.admin.client, format="json", include_comments=True, include_internal_notes=True
        )
        await finished(accounts.admin.client, made["id"])
        [ticket] = json_lines(await downloaded(accounts.admin.client, made["id"]))

        assert made["include_internal_notes"] is True
        assert [(c["body"], c["internal"]) for c in ticket["comments"]] == [
            (PUBLIC, False),
            (NOTE, True),
        ]

    async def test_admin_demoted_before_the_job_gets_nothing(
        self, accounts: Accounts, app: FastAPI, settings: Settings, conn: Connection,
        commented: dict[str, Any],
    ) -> None:  # fmt: skip
        made = await create(
            accounts.admin.client, include_comments=True, include_internal_notes=True
        )
        await conn.execute(
            "update users set role = 'agent' where id = %s", (accounts.admin.user.id,)
        )
        async with running_worker(app, settings):
            # Still its creator, now an agent.
            done = await finished(accounts.admin.client, made["id"])

        assert done["status"] == "failed"
        assert "no longer an admin" in done["error"]
        assert _export_files(settings) == []
        refused = await accounts.admin.client.get(f"{EXPORTS}/{made['id']}/download")
        assert refused.status_code == 409


class TestFilters:
    async def test_each_filter(
        self, accounts: Accounts, app: FastAPI, settings: Settings, conn: Connection
    ) -> None:
        await labels.create_label(conn, LabelCreate(name="Billing"))
        team = await make_team(accounts, "Payments", [str(accounts.agent.user.id)])
        bug = await _open(accounts.alice, type="bug", priority="critical")
        feature = await _open(accounts.alice, type="feature", priority="low")
        labelled = await _open(accounts.agent, type="support", tags=["billing"])
        routed = await _open(accounts.bob, type="support")
        await accounts.agent.client.put(
            f"/api/v1/tickets/{routed['id']}",
            json={"team_id": team["id"]},
            headers={"If-Match": f'"{routed["version"]}"'},
        )
        closed = await accounts.agent.client.delete(f"/api/v1/tickets/{feature['id']}/close")
        assert closed.status_code == 200, closed.text
        await conn.execute(
            "update tickets set created_at = '2024-03-01T00:00:00Z' where id = %s", (bug["id"],)
        )
        cases: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
            ({"status": ["closed"]}, [feature]),
            ({"type": ["support"]}, [labelled, routed]),
            ({"priority": ["critical", "low"]}, [bug, feature]),
            ({"tags": ["BILLING"]}, [labelled]),
            ({"team": team["id"]}, [routed]),
            ({"team": "none"}, [bug, feature, labelled]),
            ({"submitter": str(accounts.bob.user.id)}, [routed]),
            (
                {
                    "created_after": "2024-01-01T00:00:00Z",
                    "created_before": "2024-06-01T00:00:00Z",
                },
                [bug],
            ),
            ({"created_after": "2025-01-01T00:00:00Z"}, [feature, labelled, routed]),
        ]
        made = [(await create(accounts.agent.client, filters=f), want) for f, want in cases]
        async with running_worker(app, settings):
            for export, want in made:
                done = await finished(accounts.agent.client, export["id"])
                rows = csv_rows(await downloaded(accounts.agent.client, export["id"]))

                assert done["rows_total"] == len(want), export["filters"]
                assert [r["number"] for r in rows] == [str(t["number"]) for t in want], export[
                    "filters"
                ]

    async def test_labels_are_kept_in_their_own_spelling(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await labels.create_label(conn, LabelCreate(name="Billing"))

        made = await create(accounts.agent.client, filters={"tags": ["BILLING"]})

        assert made["filters"] == {**made["filters"], "tags": ["Billing"]}


class TestListExports:
    async def test_submitter(self, accounts: Accounts) -> None:
        assert (await accounts.alice.client.get(EXPORTS)).status_code == 403

    async def test_own_for_agents_all_for_admins(
        self, accounts: Accounts, app: FastAPI, conn: Connection
    ) -> None:
        mine = await create(accounts.agent.client)
        async with signed_in(app, conn, await make_user(conn, role="agent", name="Olga")) as olga:
            hers = await create(olga, format="json")
            olga_sees = (await olga.get(EXPORTS)).json()
        admins = await create(accounts.admin.client)

        agent_sees = (await accounts.agent.client.get(EXPORTS)).json()
        admin_sees = (await accounts.admin.client.get(EXPORTS)).json()

        assert [e["id"] for e in agent_sees] == [mine["id"]]
        assert [e["id"] for e in olga_sees] == [hers["id"]]
        assert [e["id"] for e in admin_sees] == [admins["id"], hers["id"], mine["id"]]


class TestGetExport:
    async def test_other_agent_and_submitter(
        self, accounts: Accounts, app: FastAPI, conn: Connection
    ) -> None:
        made = await create(accounts.agent.client)
        async with signed_in(app, conn, await make_user(conn, role="agent", name="Olga")) as olga:
            other = await olga.get(f"{EXPORTS}/{made['id']}")

        assert other.status_code == 404
        assert (await accounts.alice.client.get(f"{EXPORTS}/{made['id']}")).status_code == 403
        assert (await accounts.admin.client.get(f"{EXPORTS}/{made['id']}")).status_code == 200

    async def test_missing(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.get(
            f"{EXPORTS}/00000000-0000-0000-0000-000000000001"
        )

        assert response.status_code == 404
        assert response.json()["code"] == "export_not_found"


class TestDownloadExport:
    async def test_who_may_download(
        self,
        accounts: Accounts,
        app: FastAPI,
        conn: Connection,
        commented: dict[str, Any],
        worker: None,
    ) -> None:
        made = await create(accounts.agent.client, include_comments=True)
        await finished(accounts.agent.client, made["id"])
        path = f"{EXPORTS}/{made['id']}/download"
        async with signed_in(app, conn, await make_user(conn, role="agent", name="Olga")) as olga:
            other_agent = await olga.get(path)
        submitter = await accounts.alice.client.get(path)
        admin = await accounts.admin.client.get(path)
        creator = await accounts.agent.client.get(path)

        assert other_agent.status_code == 404
        assert submitter.status_code == 403
        assert PUBLIC not in other_agent.text + submitter.text
        assert admin.status_code == 200
        assert creator.status_code == 200
        assert admin.content == creator.content
        assert PUBLIC in creator.text

    async def test_not_ready(self, accounts: Accounts) -> None:
        made = await create(accounts.agent.client)

        response = await accounts.agent.client.get(f"{EXPORTS}/{made['id']}/download")

        assert response.status_code == 409
        assert response.json()["code"] == "export_not_ready"


class TestDeleteExport:
    async def test_creator_deletes_record_and_file(
        self,
        accounts: Accounts,
        settings: Settings,
        conn: Connection,
        commented: dict[str, Any],
        worker: None,
    ) -> None:
        made = await create(accounts.agent.client)
        await finished(accounts.agent.client, made["id"])
        assert len(_export_files(settings)) == 1

        response = await accounts.agent.client.delete(f"{EXPORTS}/{made['id']}")

        assert response.status_code == 204
        assert (await accounts.agent.client.get(f"{EXPORTS}/{made['id']}")).status_code == 404
        gone = await accounts.agent.client.get(f"{EXPORTS}/{made['id']}/download")
        assert gone.status_code == 404
        assert _export_files(settings) == []
        assert await _count(conn, "exports") == 0

    async def test_others_may_not(self, accounts: Accounts, app: FastAPI, conn: Connection) -> None:
        made = await create(accounts.agent.client)
        async with signed_in(app, conn, await make_user(conn, role="agent", name="Olga")) as olga:
            other = await olga.delete(f"{EXPORTS}/{made['id']}")
        submitter = await accounts.alice.client.delete(f"{EXPORTS}/{made['id']}")
        admin = await accounts.admin.client.delete(f"{EXPORTS}/{made['id']}")

        assert (other.status_code, submitter.status_code, admin.status_code) == (404, 403, 204)

    async def test_a_queued_export_never_writes(
        self,
        accounts: Accounts,
        app: FastAPI,
        settings: Settings,
        conn: Connection,
        commented: dict[str, Any],
    ) -> None:
        made = await create(accounts.agent.client)
        deleted = await accounts.agent.client.delete(f"{EXPORTS}/{made['id']}")
        assert deleted.status_code == 204

        async with running_worker(app, settings):
            await _export_jobs_run(conn)

        assert _export_files(settings) == []


class TestExpiry:
    async def test_expired_exports_and_stray_files_go(
        self,
        accounts: Accounts,
        app: FastAPI,
        settings: Settings,
        conn: Connection,
        commented: dict[str, Any],
    ) -> None:
        old = await create(accounts.agent.client)
        fresh = await create(accounts.agent.client)
        async with running_worker(app, settings):
            await finished(accounts.agent.client, old["id"])
            await finished(accounts.agent.client, fresh["id"])
        stray = (
            settings.data_dir / "attachments" / "exports" / "00000000-0000-0000-0000-00000000000f"
        )
        stray.write_bytes(b"left behind")
        day_old = (datetime.now() - timedelta(days=2)).timestamp()
        os.utime(stray, (day_old, day_old))
        await conn.execute(
            "update exports set expires_at = now() - interval '1 minute' where id = %s",
            (old["id"],),
        )
        async with conn.transaction():
            await queue.defer(conn, "exports.remove_expired", timestamp=0)

        async with running_worker(app, settings):
            await _export_jobs_run(conn)

        assert (await accounts.agent.client.get(f"{EXPORTS}/{old['id']}")).status_code == 404
        assert (await accounts.agent.client.get(f"{EXPORTS}/{fresh['id']}")).status_code == 200
        assert [p.name for p in _export_files(settings)] == [fresh["id"]]


AWKWARD_TITLE = 'Commas, "quotes" and ünïcødé — 日本語 ✓'
AWKWARD_DESCRIPTION = 'Line one, with a comma\nline "two"\r\nline three\ttabbed; ¿qué? 🚀'
AWKWARD_REPLY = 'Reply with "quotes", commas,\nand a second line — ok ✓'


class TestAwkwardText:
    async def test_csv_and_json_keep_text_as_written(
        self, accounts: Accounts, worker: None
    ) -> None:
        ticket = await _open(accounts.alice, title=AWKWARD_TITLE, description=AWKWARD_DESCRIPTION)
        await _comment(accounts.agent, ticket, AWKWARD_REPLY, internal=False)
        await _comment(accounts.agent, ticket, NOTE, internal=True)

        made_csv = await create(accounts.agent.client, include_comments=True)
        made_json = await create(accounts.agent.client, format="json", include_comments=True)
        await finished(accounts.agent.client, made_csv["id"])
        await finished(accounts.agent.client, made_json["id"])
        csv_text = await downloaded(accounts.agent.client, made_csv["id"])
        json_text = await downloaded(accounts.agent.client, made_json["id"])

        [row] = csv_rows(csv_text)
        assert row["title"] == AWKWARD_TITLE
        assert row["description"] == AWKWARD_DESCRIPTION
        assert [c["body"] for c in json.loads(row["comments"])] == [AWKWARD_REPLY]
        [obj] = json_lines(json_text)
        assert obj["title"] == AWKWARD_TITLE
        assert obj["description"] == AWKWARD_DESCRIPTION
        assert [c["body"] for c in obj["comments"]] == [AWKWARD_REPLY]
        # Neither format lets a note's text through, in any field.
        assert "RFD-90210" not in csv_text
        assert "RFD-90210" not in json_text


class TestBatches:
    async def test_every_ticket_once_in_order_while_tickets_are_opened(
        self, accounts: Accounts, monkeypatch: pytest.MonkeyPatch, worker: None
    ) -> None:
        monkeypatch.setattr(writer, "BATCH", 2)
        before = [await _open(accounts.alice, title=f"Before the export {i}") for i in range(9)]

        made = await create(accounts.agent.client, format="json")
        # Tickets opened while the job is queued or running: in the file only if opened
        # before the job counted its tickets; each ticket once, in order, as many as counted.
        during = [await _open(accounts.alice, title=f"During the export {i}") for i in range(4)]
        done = await finished(accounts.agent.client, made["id"])
        numbers = [
            t["number"] for t in json_lines(await downloaded(accounts.agent.client, made["id"]))
        ]

        assert done["status"] == "done"
        assert done["rows_total"] == done["rows_done"] == len(numbers)
        assert numbers == sorted(set(numbers))
        assert numbers[: len(before)] == [t["number"] for t in before]
        assert numbers[len(before) :] == [t["number"] for t in during[: len(numbers) - len(before)]]
