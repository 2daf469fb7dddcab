"""Search: documents kept current, audiences, phrases and exclusions, ticket numbers,
relevance and its cursor, snippets."""

import asyncio
import base64
import json
from typing import Any
from uuid import UUID

import psycopg
from httpx import AsyncClient

from tests.factories import Accounts, create_ticket
from ticketdesk.comments import service as comments
from ticketdesk.db import Connection
from ticketdesk.tickets import similar

LIST = "/api/v1/tickets"


async def _found(client: AsyncClient, **params: Any) -> list[str]:
    response = await client.get(LIST, params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def _matches(conn: Connection, ticket_id: UUID, words: str) -> tuple[bool, bool]:
    """Whether the ticket's public and staff documents match ``words``."""
    cur = await conn.execute(
        "select search_public @@ websearch_to_tsquery('english', %(q)s) as public,"
        " search_staff @@ websearch_to_tsquery('english', %(q)s) as staff"
        " from tickets where id = %(id)s",
        {"q": words, "id": ticket_id},
    )
    row = await cur.fetchone()
    assert row is not None
    return row["public"], row["staff"]


async def _comment(client: AsyncClient, ticket_id: UUID, text: str, **extra: Any) -> str:
    response = await client.post(f"{LIST}/{ticket_id}/comments", json={"comment": text, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


class TestDocumentsStayCurrent:
    async def test_through_the_api(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(
            conn, accounts.alice, title="Gizmo export stalls at noon", description="x" * 30
        )
        assert await _matches(conn, ticket.id, "gizmo") == (True, True)

        await accounts.agent.client.put(
            f"{LIST}/{ticket.id}",
            json={"title": "Sprocket export stalls", "description": "The wombat report hangs."},
        )
        assert await _matches(conn, ticket.id, "gizmo") == (False, False)
        assert await _matches(conn, ticket.id, "sprocket wombat") == (True, True)

        await _comment(accounts.alice.client, ticket.id, "Also the marmoset page.")
        await _comment(accounts.agent.client, ticket.id, "Ask about narwhal.", is_internal=True)
        assert await _matches(conn, ticket.id, "marmoset") == (True, True)
        assert await _matches(conn, ticket.id, "narwhal") == (False, True)

        # A title edit keeps the comments' words.
        await accounts.agent.client.put(f"{LIST}/{ticket.id}", json={"title": "Cog export stalls"})
        assert await _matches(conn, ticket.id, "marmoset") == (True, True)
        assert await _matches(conn, ticket.id, "narwhal") == (False, True)

    async def test_a_note_made_public_and_back(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        note = await _comment(accounts.agent.client, ticket.id, "Ocelot refund.", is_internal=True)

        await conn.execute("update comments set is_internal = false where id = %s", (note,))
        assert await _matches(conn, ticket.id, "ocelot") == (True, True)
        await conn.execute("update comments set is_internal = true where id = %s", (note,))
        assert await _matches(conn, ticket.id, "ocelot") == (False, True)
        await conn.execute("delete from comments where id = %s", (note,))
        assert await _matches(conn, ticket.id, "ocelot") == (False, False)

    async def test_comments_written_at_once_are_all_searched(
        self, accounts: Accounts, conn: Connection, database_url: str
    ) -> None:
        """Two comments on one ticket in transactions that overlap (as a GitHub edit, which
        does not lock the ticket first, can be with anything): the later rebuild waits for
        the earlier one and has both."""
        ticket = await create_ticket(conn, accounts.alice)
        insert = "insert into comments (ticket_id, author_id, body) values (%s, %s, %s)"
        async with (
            await psycopg.AsyncConnection.connect(database_url) as first,
            await psycopg.AsyncConnection.connect(database_url, autocommit=True) as second,
        ):
            await first.execute(insert, (ticket.id, accounts.alice.user.id, "The marmoset page."))
            later = asyncio.create_task(
                second.execute(insert, (ticket.id, accounts.agent.user.id, "Try the okapi build."))
            )
            for _ in range(500):  # until the second waits for the first's lock
                cur = await conn.execute(
                    "select wait_event_type = 'Lock' as waits from pg_stat_activity where pid = %s",
                    (second.info.backend_pid,),
                )
                if (row := await cur.fetchone()) and row["waits"]:
                    break
                await asyncio.sleep(0.01)
            await first.commit()
            await asyncio.wait_for(later, 10)

        assert await _matches(conn, ticket.id, "marmoset") == (True, True)
        assert await _matches(conn, ticket.id, "okapi") == (True, True)

    async def test_comments_edited_and_deleted_on_github(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await conn.execute(
            "insert into comments (ticket_id, author_id, body, source, github_login,"
            " github_comment_id) values (%s, %s, 'Seen with the pangolin build.', 'github',"
            " 'octocat', 4242)",
            (ticket.id, accounts.agent.user.id),
        )
        assert await _matches(conn, ticket.id, "pangolin") == (True, True)

        async with conn.transaction():
            assert await comments.edit_github_comment(
                conn, accounts.agent.actor, 4242, "Seen with the quetzal build."
            )
        assert await _matches(conn, ticket.id, "pangolin") == (False, False)
        assert await _matches(conn, ticket.id, "quetzal") == (True, True)

        async with conn.transaction():
            assert await comments.delete_github_comment(conn, accounts.agent.actor, 4242)
        assert await _matches(conn, ticket.id, "quetzal") == (False, False)

    async def test_deleting_a_ticket_with_comments(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _comment(accounts.alice.client, ticket.id, "A reply.")
        await _comment(accounts.agent.client, ticket.id, "A note.", is_internal=True)

        await conn.execute("delete from tickets where id = %s", (ticket.id,))

        assert await _found(accounts.agent.client) == []

    async def test_refresh_rebuilds_documents_loaded_without_triggers(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        async with conn.transaction():
            await conn.execute("alter table comments disable trigger comments_search_documents")
            await conn.execute(
                "insert into comments (ticket_id, author_id, body) values (%s, %s, %s)",
                (ticket.id, accounts.alice.user.id, "Loaded in bulk: axolotl."),
            )
            await conn.execute("alter table comments enable trigger comments_search_documents")
        assert await _matches(conn, ticket.id, "axolotl") == (False, False)

        cur = await conn.execute("select ticket_search_refresh()")

        assert await cur.fetchone() == {"ticket_search_refresh": 1}
        assert await _matches(conn, ticket.id, "axolotl") == (True, True)

    async def test_documents_stay_bounded(self, accounts: Accounts, conn: Connection) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        words = " ".join(f"w{i:05}x" for i in range(9000))  # 72,000 distinct words
        for _ in range(3):
            await _comment(accounts.alice.client, ticket.id, words[:60000])
            await _comment(accounts.agent.client, ticket.id, words[:60000], is_internal=True)

        cur = await conn.execute(
            "select pg_column_size(search_staff) as size from tickets where id = %s", (ticket.id,)
        )

        row = await cur.fetchone()
        assert row is not None
        assert row["size"] < 1024 * 1024
        assert await _matches(conn, ticket.id, "w00001x") == (True, True)


class TestAudiences:
    async def test_a_submitter_never_matches_internal_notes(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice, title="Widget sync is slow")
        await _comment(accounts.alice.client, ticket.id, "The quarterly widget again.")
        await _comment(
            accounts.agent.client, ticket.id, "Zebracorn migration plan.", is_internal=True
        )
        mine = [str(ticket.id)]

        for q, submitter, staff in [
            ("zebracorn", [], mine),
            ('"zebracorn migration"', [], mine),
            ("widget zebracorn", [], mine),
            # Excluding a word only in a note must not reveal the note to a submitter.
            ("widget -zebracorn", mine, []),
            ('"quarterly widget"', mine, mine),
            ('"widget quarterly"', [], []),
            ("widget -quarterly", [], []),
        ]:
            assert await _found(accounts.alice.client, q=q) == submitter, q
            assert await _found(accounts.agent.client, q=q) == staff, q

    async def test_a_submitters_snippets_never_show_a_note(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice, title="Widget sync is slow")
        await _comment(accounts.agent.client, ticket.id, "Widget zebracorn plan.", is_internal=True)

        alice = await accounts.alice.client.get(LIST, params={"q": "widget"})
        agent = await accounts.agent.client.get(LIST, params={"q": "zebracorn"})

        assert "zebracorn" not in alice.text
        assert "<mark>zebracorn</mark>" in agent.json()["items"][0]["snippet"]

    async def test_a_submitters_relevance_never_counts_a_note(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        about = "Started after the capybara import ran."
        noted = await create_ticket(conn, accounts.alice, title="Export stalls", description=about)
        newer = await create_ticket(conn, accounts.alice, title="Report stalls", description=about)
        await _comment(
            accounts.agent.client, noted.id, "Capybara capybara capybara.", is_internal=True
        )
        search = {"q": "capybara", "sort": "relevance"}

        # As good a match for her, so the newer first; staff also match the note.
        assert await _found(accounts.alice.client, **search) == [str(newer.id), str(noted.id)]
        assert await _found(accounts.agent.client, **search) == [str(noted.id), str(newer.id)]

    async def test_number(self, accounts: Accounts, conn: Connection) -> None:
        mine = await create_ticket(conn, accounts.alice)
        theirs = await create_ticket(conn, accounts.bob)

        for q in (str(mine.number), f"#{mine.number}"):
            assert await _found(accounts.alice.client, q=q) == [str(mine.id)], q
            assert await _found(accounts.agent.client, q=q) == [str(mine.id)], q
        assert await _found(accounts.alice.client, q=f"#{theirs.number}") == []
        assert await _found(accounts.alice.client, q=f"# {mine.number}") == []


def _cursor(rank: float) -> str:
    """A relevance cursor as the list makes them, with ``rank``."""
    values = ["relevance", rank, "2025-01-01T00:00:00+00:00", str(UUID(int=1))]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class TestRelevance:
    async def test_title_matches_rank_first_and_the_cursor_keeps_the_order(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        in_comment = await create_ticket(conn, accounts.alice, title="Export stalls at noon")
        await _comment(accounts.alice.client, in_comment.id, "Maybe the capybara import?")
        in_description = await create_ticket(
            conn, accounts.alice, description="Started after the capybara import ran."
        )
        in_title = await create_ticket(conn, accounts.alice, title="Capybara import fails")
        others = [await create_ticket(conn, accounts.bob, title="Capybara sync") for _ in range(3)]
        unrelated = await create_ticket(conn, accounts.alice, title="Nothing to see here")

        ranked = await _found(accounts.agent.client, q="capybara import", sort="relevance")
        by_pages: list[str] = []
        params = {"q": "capybara", "sort": "relevance", "limit": 2}
        while True:
            response = await accounts.agent.client.get(LIST, params=params)
            by_pages += [item["id"] for item in response.json()["items"]]
            if (cursor := response.json()["next_cursor"]) is None:
                break
            params["cursor"] = cursor

        assert ranked == [str(t.id) for t in (in_title, in_description, in_comment)]
        assert sorted(by_pages) == sorted(
            str(t.id) for t in (in_title, in_description, in_comment, *others)
        )
        assert by_pages == await _found(accounts.agent.client, q="capybara", sort="relevance")
        assert str(unrelated.id) not in by_pages

    async def test_the_number_ranks_first(self, accounts: Accounts, conn: Connection) -> None:
        named = await create_ticket(conn, accounts.alice)
        mentions = await create_ticket(
            conn, accounts.alice, title=f"Same as ticket {named.number} again"
        )

        found = await _found(accounts.agent.client, q=str(named.number), sort="relevance")

        assert found == [str(named.id), str(mentions.id)]

    async def test_only_with_a_search(self, accounts: Accounts) -> None:
        cases = [
            ({"sort": "relevance"}, "sort"),
            ({"sort": "relevance", "q": "   "}, "sort"),
            ({"sort": "relevance", "q": "x", "cursor": _cursor(5)}, "cursor"),
            ({"sort": "-created", "q": "x", "cursor": _cursor(0.5)}, "cursor"),
        ]
        for params, field in cases:
            response = await accounts.agent.client.get(LIST, params=params)
            assert response.status_code == 422, params
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["field"] == field, params


class TestSnippets:
    async def test_escaped_with_only_marks_added(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice)
        await _comment(
            accounts.alice.client,
            ticket.id,
            "<script>alert(1)</script> quokka & 1 < 2 <b onclick=x>bold</b>"
            " \x02quokka\x03 \x03x\x02",
        )

        response = await accounts.alice.client.get(LIST, params={"q": "quokka"})

        snippet = response.json()["items"][0]["snippet"]
        assert "<script" not in snippet
        assert "<b" not in snippet
        assert "<mark>quokka</mark> &amp; 1 &lt; 2" in snippet
        assert snippet.count("<mark>quokka</mark>") == 2
        # The sentinels written in the text are gone: only the matches are marked.
        assert snippet.count("<mark>") == snippet.count("</mark>") == 2
        assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0

    async def test_only_in_a_search(self, accounts: Accounts, conn: Connection) -> None:
        await create_ticket(conn, accounts.alice)

        response = await accounts.alice.client.get(LIST)

        assert response.json()["items"][0]["snippet"] is None


SIMILAR = f"{LIST}/similar"


class TestSimilar:
    async def test_alike_titles_and_shared_words_within_what_the_caller_sees(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        typo = await create_ticket(conn, accounts.alice, title="Exprot button does nothing")
        words = await create_ticket(
            conn, accounts.alice, title="Nothing happens", description="The export button is dead."
        )
        unrelated = await create_ticket(conn, accounts.alice, title="Dark mode please")
        bobs = await create_ticket(conn, accounts.bob, title="Export button does nothing")

        alice = await accounts.alice.client.get(
            SIMILAR, params={"title": "Export button does nothing"}
        )
        agent = await accounts.agent.client.get(
            SIMILAR, params={"title": "Export button does nothing", "limit": 2}
        )

        assert alice.status_code == 200, alice.text
        found = [t["id"] for t in alice.json()]
        assert found[:1] == [str(typo.id)]
        assert str(words.id) in found
        assert str(unrelated.id) not in found
        assert str(bobs.id) not in found
        assert [t["id"] for t in agent.json()] == [str(bobs.id), str(typo.id)]
        assert set(agent.json()[0]) == {"id", "number", "title", "status", "created_at", "score"}

    async def test_a_submitter_never_matches_a_note(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await create_ticket(conn, accounts.alice, title="Zebrakorn migrasion plan")
        search = {"title": "Zebracorn migration"}
        await _comment(accounts.agent.client, ticket.id, "Zebracorn migration.", is_internal=True)

        note = await accounts.alice.client.get(SIMILAR, params=search)
        await _comment(accounts.alice.client, ticket.id, "Zebracorn migration.")
        reply = await accounts.alice.client.get(SIMILAR, params=search)

        assert note.json() == []
        assert [t["id"] for t in reply.json()] == [str(ticket.id)]

    async def test_words_only_without_trigrams(self, accounts: Accounts, conn: Connection) -> None:
        """What the embedded server (no pg_trgm) answers: tickets sharing the title's words."""
        shared = await create_ticket(conn, accounts.alice, title="Export button does nothing")
        await create_ticket(conn, accounts.alice, title="Exprot buton dose nothign")
        async with conn.transaction():
            found = await similar.similar_tickets(
                conn, accounts.alice.actor, "export buttons", limit=5
            )
            words = await similar.title_words(conn, "export buttons")
            assert words.trigrams
            query, params = similar.similar_query(
                accounts.alice.actor,
                "export buttons",
                words.model_copy(update={"trigrams": False}),
                limit=5,
            )
            cur = await conn.execute(query, params)
            words_only = [row["id"] for row in await cur.fetchall()]

        assert [t.id for t in found][:1] == [shared.id]
        assert words_only == [shared.id]

    async def test_a_title_of_stop_words_finds_nothing(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        await create_ticket(conn, accounts.alice, title="It is what it is, and so on")

        response = await accounts.alice.client.get(SIMILAR, params={"title": "it is what it is"})

        assert response.status_code == 200
        assert response.json() == []

    async def test_any_text(self, accounts: Accounts, conn: Connection) -> None:
        title = "Saving C:\\temp\\o'brien.txt fails"
        ticket = await create_ticket(conn, accounts.alice, title=title)

        for text in ("C:\\temp\\o'brien.txt fails", "a & b | !c <-> d:* 'e'", "\\'\\''"):
            response = await accounts.alice.client.get(SIMILAR, params={"title": text})
            assert response.status_code == 200, text
            if "brien" in text:
                assert [t["id"] for t in response.json()] == [str(ticket.id)]

    async def test_invalid(self, accounts: Accounts) -> None:
        cases: list[tuple[dict[str, Any], str]] = [
            ({}, "title"),
            ({"title": ""}, "title"),
            ({"title": "   "}, "title"),
            ({"title": "x" * 201}, "title"),
            ({"title": "export\x00"}, "title"),
            ({"title": "export", "limit": 0}, "limit"),
            ({"title": "export", "limit": 21}, "limit"),
            ({"title": "export", "limit": "5.0"}, "limit"),
        ]
        for params, field in cases:
            response = await accounts.alice.client.get(SIMILAR, params=params)
            assert response.status_code == 422, params
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["field"] == field, params

    async def test_only_get(self, accounts: Accounts) -> None:
        response = await accounts.alice.client.post(SIMILAR, json={})

        assert response.status_code == 405
        assert response.headers["Allow"] == "GET"
