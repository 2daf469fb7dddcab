"""``imports.service.apply_rows`` with what a CSV cannot carry: comments and notes."""

from datetime import UTC, datetime

from tests.factories import Accounts
from ticketdesk.db import Connection
from ticketdesk.imports import service


class TestApplyRowsWithComments:
    async def test_comments_written_in_order_and_searchable_by_audience(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        opened = datetime(2024, 5, 1, 8, tzinfo=UTC)
        rows = [
            service.ImportRow(
                row=n,
                title=f"Boiler {n} makes a knocking noise",
                description=f"The boiler {n} in the basement knocks every few minutes.",
                submitter_email="dora@customer.example",
                created_at=opened,
                comments=(
                    service.ImportComment(
                        author_email=accounts.agent.user.email,
                        body=f"Checked boiler {n}: thermostat",
                        created_at=datetime(2024, 5, 1, 9, tzinfo=UTC),
                    ),
                    service.ImportComment(
                        author_email=accounts.agent.user.email,
                        body="Quokka valve suspected",
                        is_internal=True,
                    ),
                ),
            )
            for n in (1, 2)
        ]
        async with conn.transaction():
            started = await service.start_import(
                conn,
                source="test",
                actor_id=accounts.admin.user.id,
                filename="x",
                content=None,
                columns=[],
                row_count=2,
            )
            result = await service.apply_rows(
                conn,
                rows,
                import_id=started.id,
                source="test",
                actor_id=accounts.admin.user.id,
                internal_domains=[],
            )

        cur = await conn.execute(
            "select t.number, c.body, c.is_internal, c.created_at,"
            " t.search_public @@ to_tsquery('english', 'quokka') as public_hit,"
            " t.search_staff @@ to_tsquery('english', 'quokka') as staff_hit"
            " from comments c join tickets t on t.id = c.ticket_id"
            " order by t.number, c.created_at, c.is_internal"
        )
        found = await cur.fetchall()
        assert result.created == 2
        first = found[0]["number"]
        assert (result.first_number, result.last_number) == (first, first + 1)
        assert [(r["number"] - first, r["body"], r["is_internal"]) for r in found] == [
            (0, "Quokka valve suspected", True),
            (0, "Checked boiler 1: thermostat", False),
            (1, "Quokka valve suspected", True),
            (1, "Checked boiler 2: thermostat", False),
        ]
        assert found[0]["created_at"] == opened
        assert {(r["public_hit"], r["staff_hit"]) for r in found} == {(False, True)}
