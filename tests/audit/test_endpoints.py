"""Reading, exporting, guarding and forgetting the audit trail."""

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job

from tests.factories import Accounts
from ticketdesk.audit import service as audit
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.jobs.queue import ENV_KEY, JobEnv
from ticketdesk.worker import AUDIT_PRUNE_TASK, PERIODIC, create_queue, prune_audit

AUDIT = "/api/v1/audit"
HOOK_URL = "https://93.184.215.14/hook"


async def entries(conn: Connection) -> list[dict[str, Any]]:
    cur = await conn.execute("select * from audit_log order by at, id")
    return await cur.fetchall()


async def recorded(conn: Connection, *, action: str, at: datetime, **fields: Any) -> None:
    """An entry as ``record`` writes it, dated ``at``."""
    await conn.execute(
        "insert into audit_log (at, action, target_type, target_id, actor_id, after)"
        " values (%(at)s, %(action)s, %(target_type)s, %(target_id)s, %(actor_id)s, %(after)s)",
        {
            "at": at,
            "action": action,
            "target_type": fields.get("target_type", action.split(".")[0]),
            "target_id": fields.get("target_id"),
            "actor_id": fields.get("actor_id"),
            "after": psycopg.types.json.Jsonb(fields.get("after", {})),
        },
    )


class TestRefusedActionsLeaveNoEntry:
    async def test_a_forbidden_call(self, accounts: Accounts, conn: Connection) -> None:
        response = await accounts.agent.client.post("/api/v1/labels", json={"name": "ui"})

        assert response.status_code == 403
        assert await entries(conn) == []

    async def test_a_conflict_after_the_checks(self, accounts: Accounts, conn: Connection) -> None:
        first = await accounts.admin.client.post("/api/v1/labels", json={"name": "ui"})
        again = await accounts.admin.client.post("/api/v1/labels", json={"name": "UI"})

        assert (first.status_code, again.status_code) == (201, 409)
        assert [entry["action"] for entry in await entries(conn)] == ["label.created"]

    async def test_demoting_yourself(self, accounts: Accounts, conn: Connection) -> None:
        response = await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.admin.user.id}", json={"role": "agent"}
        )

        assert response.status_code == 409
        assert await entries(conn) == []

    async def test_a_webhook_target_refused(self, accounts: Accounts, conn: Connection) -> None:
        response = await accounts.admin.client.post(
            "/api/v1/webhooks",
            json={"name": "Inside", "url": "http://10.0.0.5/hook", "events": ["ticket.created"]},
        )

        assert response.status_code == 422
        assert await entries(conn) == []


class TestClientAddress:
    async def test_without_trusted_proxies_the_forwarded_address_is_ignored(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        response = await accounts.admin.client.post(
            "/api/v1/labels", json={"name": "ui"}, headers={"X-Forwarded-For": "203.0.113.7"}
        )

        assert response.status_code == 201
        [entry] = await entries(conn)
        assert entry["client_address"] == "127.0.0.1"


class TestSecretsAreRedacted:
    async def test_a_new_webhooks_secret(self, accounts: Accounts, conn: Connection) -> None:
        response = await accounts.admin.client.post(
            "/api/v1/webhooks",
            json={"name": "Chat", "url": HOOK_URL, "events": ["ticket.created"]},
        )
        secret = response.json()["secret"]
        rotated = await accounts.admin.client.post(
            f"/api/v1/webhooks/{response.json()['id']}/rotate-secret"
        )

        rows = await entries(conn)
        stored = json.dumps([[row["before"], row["after"]] for row in rows])
        assert [row["action"] for row in rows] == ["webhook.created", "webhook.secret_rotated"]
        assert secret.startswith("whsec_")
        assert rotated.json()["secret"].startswith("whsec_")
        assert secret not in stored
        assert rotated.json()["secret"] not in stored
        assert rows[1]["after"]["secret"] == "[redacted]"

    async def test_a_new_tokens_value(self, accounts: Accounts, conn: Connection) -> None:
        response = await accounts.admin.client.post("/api/v1/me/tokens", json={"name": "ci"})

        [row] = await entries(conn)
        assert response.json()["token"].startswith("tdpat_")
        assert response.json()["token"] not in json.dumps(row["after"])
        assert row["after"]["token"] == "[redacted]"

    async def test_keys_named_as_secrets_and_passwords_in_urls(self, conn: Connection) -> None:
        async with conn.transaction():
            await audit.record(
                conn,
                actor_id=None,
                client_address=None,
                action="settings.changed",
                target_type="settings",
                target_id=None,
                before={"password_hash": "$argon2id$v=19$abc", "nested": {"api_key": "k-123"}},
                after={
                    "webhook_secret": "s3cr3t",
                    "smtp_url": "smtp://mailer:hunter2@mail.example.com:587",
                    "token_id": "a1",
                    "name": "kept",
                },
            )

        [row] = await entries(conn)
        assert row["before"] == {"password_hash": "[redacted]", "nested": {"api_key": "[redacted]"}}
        assert row["after"] == {
            "webhook_secret": "[redacted]",
            "smtp_url": "smtp://mailer:[redacted]@mail.example.com:587",
            "token_id": "a1",
            "name": "kept",
        }


class TestListAuditEntries:
    async def test_newest_first_a_page_at_a_time(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        start = datetime.now(UTC) - timedelta(hours=1)
        for minute in range(5):
            await recorded(
                conn,
                action="label.created",
                at=start + timedelta(minutes=minute),
                target_id=f"l{minute}",
            )

        first = await accounts.admin.client.get(AUDIT, params={"limit": 2})
        second = await accounts.admin.client.get(
            AUDIT, params={"limit": 2, "cursor": first.json()["next_cursor"]}
        )
        third = await accounts.admin.client.get(
            AUDIT, params={"limit": 2, "cursor": second.json()["next_cursor"]}
        )

        pages = [
            [item["target_id"] for item in page.json()["items"]] for page in (first, second, third)
        ]
        assert pages == [["l4", "l3"], ["l2", "l1"], ["l0"]]
        assert third.json()["next_cursor"] is None

    async def test_filters(self, accounts: Accounts, conn: Connection) -> None:
        day = datetime(2026, 11, 2, 12, tzinfo=UTC)
        admin, agent = accounts.admin.user.id, accounts.agent.user.id
        await recorded(
            conn,
            action="webhook.created",
            at=day,
            target_id="w1",
            actor_id=admin,
            after={"name": "Pager duty"},
        )
        await recorded(
            conn,
            action="webhook.deleted",
            at=day + timedelta(days=1),
            target_id="w1",
            actor_id=agent,
        )
        await recorded(
            conn,
            action="user.role_changed",
            at=day + timedelta(days=2),
            target_id="u1",
            actor_id=admin,
            after={"role": "agent"},
        )

        async def found(**query: str) -> list[str]:
            response = await accounts.admin.client.get(AUDIT, params=query)
            assert response.status_code == 200, response.text
            return [item["action"] for item in response.json()["items"]]

        assert await found(action="webhook.") == ["webhook.deleted", "webhook.created"]
        assert await found(action="user.role") == ["user.role_changed"]
        assert await found(actor=str(agent)) == ["webhook.deleted"]
        assert await found(target_type="webhook", target_id="w1") == [
            "webhook.deleted",
            "webhook.created",
        ]
        assert await found(q="PAGER") == ["webhook.created"]
        assert await found(q="role_changed") == ["user.role_changed"]
        assert await found(q="100%") == []
        assert await found(
            since=(day + timedelta(hours=1)).isoformat(),
            until=(day + timedelta(days=2)).isoformat(),
        ) == ["webhook.deleted"]

    async def test_bad_input_names_the_field(self, accounts: Accounts) -> None:
        cursor = await accounts.admin.client.get(AUDIT, params={"cursor": "nonsense"})
        order = await accounts.admin.client.get(
            AUDIT, params={"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}
        )
        naive = await accounts.admin.client.get(AUDIT, params={"since": "2026-11-02T00:00:00"})
        # Seconds since 1970 are not the RFC 3339 date-time the API describes.
        seconds = await accounts.admin.client.get(AUDIT, params={"since": "0"})

        assert (cursor.status_code, cursor.json()["field"]) == (422, "cursor")
        assert (order.status_code, order.json()["field"]) == (422, "until")
        assert naive.status_code == 422
        assert (seconds.status_code, seconds.json()["field"]) == (422, "since")

    async def test_shows_the_actor_as_they_were(self, accounts: Accounts, conn: Connection) -> None:
        await accounts.admin.client.post("/api/v1/labels", json={"name": "ui"})
        await accounts.admin.client.patch(
            f"/api/v1/users/{accounts.admin.user.id}", json={"name": "Ada Renamed"}
        )

        response = await accounts.admin.client.get(AUDIT, params={"action": "label."})

        [item] = response.json()["items"]
        assert (item["actor_name"], item["actor_email"]) == ("Ada Admin", accounts.admin.user.email)


class TestNeverEdited:
    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    async def test_the_api_has_no_write_route(self, accounts: Accounts, method: str) -> None:
        response = await accounts.admin.client.request(method, AUDIT)

        assert response.status_code == 405

    async def test_sql_update_delete_and_truncate_are_refused(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await accounts.admin.client.post("/api/v1/labels", json={"name": "ui"})

        for statement in (
            "update audit_log set action = 'label.deleted'",
            "delete from audit_log",
            "truncate audit_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be changed"):
                await conn.execute(statement)

        [entry] = await entries(conn)
        assert entry["action"] == "label.created"

    async def test_only_the_prune_setting_lets_a_delete_through(self, conn: Connection) -> None:
        await recorded(conn, action="label.created", at=datetime.now(UTC))

        async with conn.transaction():
            await conn.execute("select set_config('ticketdesk.audit_prune', 'on', true)")
            await conn.execute("delete from audit_log")
        assert await entries(conn) == []

    async def test_the_prune_setting_does_not_let_a_truncate_through(
        self, conn: Connection
    ) -> None:
        await recorded(conn, action="label.created", at=datetime.now(UTC))

        await conn.execute("select set_config('ticketdesk.audit_prune', 'on', false)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be changed"):
            await conn.execute("truncate audit_log")
        await conn.execute("select set_config('ticketdesk.audit_prune', 'off', false)")

        assert len(await entries(conn)) == 1


class TestRetention:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"audit": {"retention_days": 30}}

    async def test_the_periodic_job_deletes_entries_past_the_retention(
        self, app: FastAPI, conn: Connection
    ) -> None:
        now = datetime.now(UTC)
        await recorded(conn, action="label.created", at=now - timedelta(days=31), target_id="old")
        await recorded(conn, action="label.created", at=now - timedelta(days=29), target_id="kept")
        await recorded(conn, action="label.created", at=now, target_id="new")
        settings: Settings = app.state.settings
        job = Job(
            id=1,
            queue="default",
            lock=None,
            queueing_lock=None,
            task_name=AUDIT_PRUNE_TASK,
            task_kwargs={"timestamp": int(time.time())},
        )
        context = JobContext(
            app=create_queue(settings),
            job=job,
            start_timestamp=time.time(),
            abort_reason=lambda: None,
            additional_context={ENV_KEY: JobEnv(settings=settings, pool=app.state.pool)},
        )

        await prune_audit(context, int(time.time()))

        assert [entry["target_id"] for entry in await entries(conn)] == ["kept", "new"]
        assert PERIODIC[AUDIT_PRUNE_TASK] == "17 * * * *"

    async def test_prune_works_in_batches(self, conn: Connection) -> None:
        old = datetime.now(UTC) - timedelta(days=400)
        await conn.execute(
            "insert into audit_log (at, action, target_type)"
            " select %s, 'label.created', 'label' from generate_series(1, %s)",
            (old, audit.PRUNE_BATCH + 3),
        )

        async with conn.transaction():
            first = await audit.prune(conn, days=365)
        async with conn.transaction():
            second = await audit.prune(conn, days=365)

        assert (first, second) == (audit.PRUNE_BATCH, 3)
        assert await entries(conn) == []


class TestExportAuditEntries:
    async def _three(self, accounts: Accounts) -> None:
        for name in ("ui", "api"):
            await accounts.admin.client.post("/api/v1/labels", json={"name": name})
        await accounts.admin.client.post("/api/v1/teams", json={"name": 'Tier "1", nights'})

    async def test_csv(self, accounts: Accounts, conn: Connection) -> None:
        await self._three(accounts)

        response = await accounts.admin.client.get(f"{AUDIT}/export", params={"format": "csv"})

        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"].startswith('attachment; filename="audit-')
        rows = list(csv.DictReader(io.StringIO(response.text)))
        # The export is recorded before it is read: it is the newest entry in it.
        assert [row["action"] for row in rows] == [
            "audit.exported",
            "team.created",
            "label.created",
            "label.created",
        ]
        assert json.loads(rows[1]["after"])["name"] == 'Tier "1", nights'
        assert rows[1]["before"] == ""
        assert rows[1]["actor_email"] == accounts.admin.user.email
        assert json.loads(rows[0]["after"]) == {"format": "csv"}
        assert len(await entries(conn)) == 4

    async def test_a_cell_a_spreadsheet_would_run_is_quoted(self, accounts: Accounts) -> None:
        admin = accounts.admin
        renamed = await admin.client.patch(
            f"/api/v1/users/{admin.user.id}", json={"name": '=HYPERLINK("https://x.test")'}
        )

        response = await admin.client.get(f"{AUDIT}/export", params={"format": "csv"})

        assert renamed.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [row["action"] for row in rows] == ["audit.exported", "user.updated"]
        assert {row["actor_name"] for row in rows} == {'\'=HYPERLINK("https://x.test")'}
        assert json.loads(rows[1]["after"])["name"] == '=HYPERLINK("https://x.test")'

    async def test_json_with_filters(self, accounts: Accounts) -> None:
        await self._three(accounts)

        response = await accounts.admin.client.get(
            f"{AUDIT}/export", params={"format": "json", "action": "label."}
        )

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        items = response.json()
        assert [item["after"]["name"] for item in items] == ["api", "ui"]
        assert {item["client_address"] for item in items} == {"127.0.0.1"}

    async def test_nothing_to_export(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.get(
            f"{AUDIT}/export", params={"format": "json", "action": "nothing."}
        )

        assert response.json() == []

    async def test_an_unknown_format(self, accounts: Accounts) -> None:
        response = await accounts.admin.client.get(f"{AUDIT}/export", params={"format": "xml"})

        assert response.status_code == 422
        assert response.json()["field"] == "format"
