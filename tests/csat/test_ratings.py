"""Rating a resolved ticket in the app, and who sees the rating: the API end to end."""

from typing import Any
from uuid import UUID

from tests.csat.support import (
    age_first_rating,
    csat_of,
    rate,
    rated_events,
    resolved_ticket,
)
from tests.factories import Accounts
from tests.notifications.support import comment, open_ticket, set_status
from ticketdesk.db import Connection
from ticketdesk.tickets import followers

NOTE = "Internal: refunded out of goodwill, ref RFD-7781."


class TestRateTicket:
    """PUT /tickets/{id}/rating"""

    async def test_the_submitter_rates_a_resolved_ticket_with_a_comment(
        self, accounts: Accounts
    ) -> None:
        ticket = await resolved_ticket(accounts)

        response = await rate(accounts.alice, ticket, "good", "  Quick and friendly.  ")

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["rating"] == "good"
        assert body["comment"] == "Quick and friendly."
        assert body["can_rate"] is True
        assert body["rated_at"] == body["changed_at"]
        seen = await csat_of(accounts.alice, ticket)
        assert (seen["rating"], seen["comment"]) == ("good", "Quick and friendly.")

    async def test_a_closed_ticket_can_be_rated_without_a_comment(self, accounts: Accounts) -> None:
        ticket = await open_ticket(accounts.alice)
        await set_status(accounts.agent, ticket, "closed")

        response = await rate(accounts.alice, ticket, "bad")

        assert response.status_code == 200, response.text
        assert (response.json()["rating"], response.json()["comment"]) == ("bad", None)

    async def test_the_rating_changes_within_seven_days_and_keeps_its_first_time(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await resolved_ticket(accounts)
        first = (await rate(accounts.alice, ticket, "good", "Fine.")).json()
        await age_first_rating(conn, ticket, days=6.9)

        response = await rate(accounts.alice, ticket, "bad", "It broke again.")

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["rating"], body["comment"]) == ("bad", "It broke again.")
        assert body["rated_at"] < first["rated_at"]  # aged, not reset
        assert body["changed_at"] > body["rated_at"]

    async def test_after_seven_days_the_rating_is_locked(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await resolved_ticket(accounts)
        await rate(accounts.alice, ticket, "good")
        await age_first_rating(conn, ticket, days=7.01)

        response = await rate(accounts.alice, ticket, "bad")

        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "rating_window_passed"
        seen = await csat_of(accounts.alice, ticket)
        assert (seen["rating"], seen["can_rate"]) == ("good", False)

    async def test_an_open_ticket_is_not_rated(self, accounts: Accounts) -> None:
        ticket = await open_ticket(accounts.alice)

        response = await rate(accounts.alice, ticket, "good")

        assert response.status_code == 409
        assert response.json()["code"] == "not_rateable"
        assert await csat_of(accounts.alice, ticket) is None

    async def test_a_reopened_ticket_is_not_rated_until_resolved_again(
        self, accounts: Accounts
    ) -> None:
        ticket = await resolved_ticket(accounts)
        await set_status(accounts.alice, ticket, "open")

        response = await rate(accounts.alice, ticket, "bad")

        assert response.status_code == 409
        assert response.json()["code"] == "not_rateable"

    async def test_resolving_again_asks_again_in_a_new_round(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await resolved_ticket(accounts)
        await rate(accounts.alice, ticket, "bad", "Not fixed.")
        await set_status(accounts.alice, ticket, "open")
        await set_status(accounts.agent, ticket, "resolved")

        asked = await csat_of(accounts.alice, ticket)
        response = await rate(accounts.alice, ticket, "good")

        assert (asked["rating"], asked["can_rate"]) == (None, True)
        assert response.status_code == 200
        cur = await conn.execute(
            "select rating, comment from csat_rounds where ticket_id = %s order by started_at",
            (ticket["id"],),
        )
        assert await cur.fetchall() == [
            {"rating": "bad", "comment": "Not fixed."},
            {"rating": "good", "comment": None},
        ]

    async def test_closing_a_resolved_ticket_keeps_the_same_round(self, accounts: Accounts) -> None:
        ticket = await resolved_ticket(accounts)
        await rate(accounts.alice, ticket, "good")
        closed = await accounts.alice.client.delete(f"/api/v1/tickets/{ticket['id']}/close")

        seen = await csat_of(accounts.alice, ticket)

        assert closed.status_code == 200
        assert (seen["rating"], seen["can_rate"]) == ("good", True)

    async def test_a_duplicate_closed_by_its_merge_is_not_asked(self, accounts: Accounts) -> None:
        duplicate = await open_ticket(accounts.alice)
        main = await open_ticket(accounts.bob, title="Exports fail for everyone")
        merged = await accounts.agent.client.post(
            f"/api/v1/tickets/{duplicate['id']}/merge", json={"into": str(main["number"])}
        )

        response = await rate(accounts.alice, duplicate, "bad")

        assert merged.status_code == 201, merged.text
        assert response.status_code == 409
        assert response.json()["code"] == "not_rateable"
        assert await csat_of(accounts.agent, duplicate) is None

    async def test_a_reopened_duplicate_closed_by_its_merge_is_not_asked_about_its_old_round(
        self, accounts: Accounts
    ) -> None:
        duplicate = await resolved_ticket(accounts)
        await set_status(accounts.alice, duplicate, "open")
        main = await open_ticket(accounts.bob, title="Exports fail for everyone")
        merged = await accounts.agent.client.post(
            f"/api/v1/tickets/{duplicate['id']}/merge", json={"into": str(main["number"])}
        )

        response = await rate(accounts.alice, duplicate, "bad")

        assert merged.status_code == 201, merged.text
        assert response.status_code == 409
        assert response.json()["code"] == "not_rateable"
        assert (await csat_of(accounts.alice, duplicate))["can_rate"] is False

    async def test_staff_cannot_rate_for_the_submitter(self, accounts: Accounts) -> None:
        ticket = await resolved_ticket(accounts)

        for staff in (accounts.agent, accounts.admin):
            response = await rate(staff, ticket, "good")
            assert response.status_code == 403
            assert response.json()["code"] == "not_submitter"
        assert (await csat_of(accounts.agent, ticket))["rating"] is None

    async def test_another_submitter_cannot_rate_or_find_the_ticket(
        self, accounts: Accounts
    ) -> None:
        ticket = await resolved_ticket(accounts)

        response = await rate(accounts.bob, ticket, "bad")

        assert response.status_code == 404
        assert (await csat_of(accounts.alice, ticket))["rating"] is None

    async def test_a_rating_must_be_good_or_bad(self, accounts: Accounts) -> None:
        ticket = await resolved_ticket(accounts)

        response = await accounts.alice.client.put(
            f"/api/v1/tickets/{ticket['id']}/rating", json={"rating": "meh"}
        )
        too_long = await rate(accounts.alice, ticket, "good", "x" * 2001)

        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["rating"]
        assert too_long.status_code == 422
        assert [e["field"] for e in too_long.json()["errors"]] == ["comment"]
        assert (await csat_of(accounts.alice, ticket))["rating"] is None

    async def test_anonymous_callers_are_refused(self, accounts: Accounts, anon: Any) -> None:
        ticket = await resolved_ticket(accounts)

        response = await anon.put(f"/api/v1/tickets/{ticket['id']}/rating", json={"rating": "good"})

        assert response.status_code == 401


class TestTicketDetailCsat:
    """GET /tickets/{id}: the csat field"""

    async def test_staff_see_the_rating_comment_and_when(self, accounts: Accounts) -> None:
        ticket = await resolved_ticket(accounts)
        rated = (await rate(accounts.alice, ticket, "bad", "Took a week.")).json()

        for staff in (accounts.agent, accounts.admin):
            seen = await csat_of(staff, ticket)
            assert seen == {**rated, "can_rate": False}

    async def test_staff_see_that_it_is_not_rated_yet(self, accounts: Accounts) -> None:
        ticket = await resolved_ticket(accounts)

        seen = await csat_of(accounts.agent, ticket)

        assert seen["rating"] is None
        assert seen["can_rate"] is False

    async def test_a_follower_who_is_not_the_submitter_sees_no_rating(
        self, accounts: Accounts, conn: Connection
    ) -> None:
        ticket = await resolved_ticket(accounts)
        await rate(accounts.alice, ticket, "bad", "Slow and unfriendly.")
        # Copied in by mail, as a colleague of Alice's would be: Bob reads the ticket.
        await followers.add_person(conn, UUID(ticket["id"]), accounts.bob.user.id, via="cc")

        response = await accounts.bob.client.get(f"/api/v1/tickets/{ticket['id']}")
        events = await accounts.bob.client.get(f"/api/v1/tickets/{ticket['id']}/events")

        assert response.status_code == 200
        assert response.json()["csat"] is None
        assert "Slow and unfriendly" not in response.text + events.text
        assert (await rate(accounts.bob, ticket, "good")).status_code == 403

    async def test_no_rating_before_the_ticket_was_resolved(self, accounts: Accounts) -> None:
        ticket = await open_ticket(accounts.alice)

        assert await csat_of(accounts.agent, ticket) is None


class TestRatedEvents:
    """GET /tickets/{id}/events: the rated kind"""

    async def test_staff_see_each_new_or_changed_rating_submitters_do_not(
        self, accounts: Accounts
    ) -> None:
        ticket = await resolved_ticket(accounts)
        await rate(accounts.alice, ticket, "good", "Great.")
        await rate(accounts.alice, ticket, "good", "Great, thanks!")  # comment only
        await rate(accounts.alice, ticket, "bad")

        staff_sees = await rated_events(accounts.agent, ticket)
        submitter_sees = await rated_events(accounts.alice, ticket)

        assert [(e["actor"]["id"], e["data"]) for e in staff_sees] == [
            (str(accounts.alice.user.id), {"rating": "good", "previous": None}),
            (str(accounts.alice.user.id), {"rating": "bad", "previous": "good"}),
        ]
        assert submitter_sees == []

    async def test_the_comment_stays_out_of_the_event_and_internal_notes_stay_out(
        self, accounts: Accounts
    ) -> None:
        ticket = await resolved_ticket(accounts)
        await comment(accounts.agent, ticket, NOTE, internal=True)
        rated = await rate(accounts.alice, ticket, "good", "Lovely service.")

        events = await accounts.agent.client.get(f"/api/v1/tickets/{ticket['id']}/events")
        page = await accounts.alice.client.get(f"/api/v1/tickets/{ticket['id']}")

        assert "Lovely service" not in events.text
        assert "RFD-7781" not in rated.text + page.text
