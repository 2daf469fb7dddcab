"""ticketdesk → GitHub: the job that makes a ticket's issue match the ticket.

``sync_ticket`` is state-based: it compares the ticket with what the issue was last
made to match and sends only the difference, so running it twice, or after a crash,
changes nothing more. A ticket's jobs share a procrastinate lock and run one at a time.
GitHub is called outside any database transaction; each step's result is committed as
soon as GitHub has answered.

Creating an issue is the one call that is not idempotent on GitHub's side, and GitHub
offers no idempotency key. Before each create request the link row records (and
commits) that a request may reach GitHub. If the worker then dies, or the answer is
lost (timeout, 5xx, connection reset), the next attempt first looks for the issue
instead of creating another:

1. an ``issues opened`` webhook whose hidden block names the ticket may already have
   attached it (``webhook.py``);
2. otherwise it finds the repository's newest issue number (GET by number, galloping up
   from the highest number ticketdesk knows, then bisecting; numbers above the newest
   answer 404) and reads issues downwards, newest first, looking for the hidden block
   with this ticket's id, until it has passed three issues created before the first
   attempt (less a clock-skew margin).

Only when that search completes without a match is the issue created again. If it
cannot complete (GitHub unreachable, more than ``MAX_RECOVERY_SCAN`` issues to read),
the job waits or gives up; it never guesses. What this rests on: GitHub numbers issues
and pull requests from one increasing sequence, so a lost issue's number lies between
the newest number and the first issue created before the attempt. A number freed by a
deleted issue reads as 410 (counted as used); the few numbers past the apparent end are
probed too, in case a deletion there reads as 404.
"""

import dataclasses
import logging
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any, Literal
from uuid import UUID

from procrastinate import JobContext

from ticketdesk import db
from ticketdesk.auth.service import Actor
from ticketdesk.comments import service as comments
from ticketdesk.comments.schemas import Comment
from ticketdesk.config import Settings
from ticketdesk.db import Connection
from ticketdesk.github import service
from ticketdesk.github.client import (
    GitHubClient,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubRefused,
    Issue,
)
from ticketdesk.github.service import Link
from ticketdesk.jobs.queue import GiveUp, JobEnv, job_env, redact
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.access import get_visible_ticket
from ticketdesk.tickets.schemas import Ticket

log = logging.getLogger(__name__)

# GitHub's clock and ours may disagree by this much.
CLOCK_SKEW = timedelta(minutes=5)
# A search for a lost issue reads at most this many issues, then gives up.
MAX_RECOVERY_SCAN = 50
# Issues created before the first attempt that end the search (one could be a transfer).
OLDER_ISSUES_TO_STOP = 3
# Numbers tried past the apparent newest, in case deleted issues read as missing.
HOLE_PROBES = 3


async def sync_ticket(context: JobContext, ticket_id: str) -> None:
    """Make a ticket's GitHub issue match it: create or confirm the issue, then mirror
    its title, open/closed state and new public comments."""
    env = job_env(context.additional_context)
    if not env.settings.tickets.github.enabled:
        raise GiveUp("The GitHub integration is turned off.")
    sync = _Sync(env, UUID(ticket_id))
    try:
        async with GitHubClient(env.settings.tickets.github) as client:
            await sync.run(client)
    except Exception as exc:
        await sync.failed(exc)
        raise


TASKS = {service.SYNC_TICKET_TASK: sync_ticket}


@dataclasses.dataclass
class _Sync:
    env: JobEnv
    ticket_id: UUID
    _github_actor: Actor | None = dataclasses.field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        return self.env.settings

    def _connection(self) -> AbstractAsyncContextManager[Connection]:
        """A pooled connection; each statement commits on its own unless in a transaction."""
        return db.connection(self.env.pool)

    async def run(self, client: GitHubClient) -> None:
        async with self._connection() as conn:
            until = await service.rate_limited_until(conn)
            link = await service.get_link(conn, self.ticket_id)
            if link is None:
                return
        if until is not None:
            raise GitHubRateLimited(
                f"Waiting for GitHub's rate limit to lift at {until:%H:%M:%S} UTC", at=until
            )
        if link.issue_number is None:
            await self._create(client)
        elif link.issue_url is None:
            await self._confirm(client, link)
        await self._push_fields(client)
        await self._mirror_comments(client)
        async with self._connection() as conn:
            await service.record_synced(conn, self.ticket_id)

    async def failed(self, exc: Exception) -> None:
        """Show the failure on the ticket's link; share a rate limit with every worker."""
        try:
            async with self._connection() as conn:
                if isinstance(exc, GitHubRateLimited):
                    await service.set_rate_limited_until(conn, exc.at)
                message = str(exc) or type(exc).__name__
                await service.record_link_error(
                    conn, self.ticket_id, redact(message, self.env.secrets())
                )
        except Exception:
            log.warning("could not record the GitHub sync error", exc_info=True)

    # --- reading ----------------------------------------------------------------------

    async def _actor(self, conn: Connection) -> Actor:
        if self._github_actor is None:
            self._github_actor = await service.github_actor(conn)
        return self._github_actor

    async def _read(self, conn: Connection) -> tuple[Ticket, Link]:
        ticket = await get_visible_ticket(conn, await self._actor(conn), str(self.ticket_id))
        link = await service.get_link(conn, self.ticket_id)
        assert link is not None, "links are only removed with their ticket"
        return ticket, link

    # --- the issue ----------------------------------------------------------------------

    async def _create(self, client: GitHubClient) -> None:
        async with self._connection() as conn:
            ticket, link = await self._read(conn)
        if link.issue_number is not None:  # attached by a webhook meanwhile
            return
        owner, name = link.owner_and_name
        if link.create_attempted_at is not None:
            found = await self._find_lost_issue(client, link, ticket)
            if found is not None:
                log.info("found issue #%d created by an earlier attempt", found.number)
                await self._attach(
                    found, pushed_title=found.title, pushed_open=found.state == "open"
                )
                return
        async with self._connection() as conn:
            await service.mark_create_attempt(conn, self.ticket_id)
        issue = await client.create_issue(
            owner,
            name,
            title=ticket.title,
            body=self._issue_body(ticket),
            labels=[service.ISSUE_LABEL],
        )
        await self._attach(issue, pushed_title=ticket.title, pushed_open=True)

    async def _confirm(self, client: GitHubClient, link: Link) -> None:
        owner, name = link.owner_and_name
        assert link.issue_number is not None
        try:
            issue = await client.get_issue(owner, name, link.issue_number)
        except GitHubNotFound:
            raise GitHubRefused(
                f"Issue #{link.issue_number} does not exist in {link.repo}, "
                "or the token cannot see it."
            ) from None
        async with self._connection() as conn:
            ticket, _ = await self._read(conn)
        # From now on the issue follows the ticket; linking alone changes nothing on GitHub.
        await self._attach(issue, pushed_title=ticket.title, pushed_open=service.is_open(ticket))

    async def _attach(self, issue: Issue, *, pushed_title: str, pushed_open: bool) -> None:
        async with self._connection() as conn, conn.transaction():
            await service.store_issue(
                conn,
                self.ticket_id,
                number=issue.number,
                url=issue.html_url,
                title=issue.title,
                pushed_title=pushed_title,
                pushed_open=pushed_open,
            )
            await tickets.apply_outside_change(
                conn, await self._actor(conn), self.ticket_id, {"github_issue_number": issue.number}
            )

    def _issue_body(self, ticket: Ticket) -> str:
        url = f"{self.settings.public_url}/tickets/{ticket.number}"
        return (
            f"{ticket.description}\n\n---\n"
            f"*Reported in ticketdesk as [#{ticket.number}]({url}).*\n\n"
            f"{service.issue_marker(ticket, url)}\n"
        )

    async def _push_fields(self, client: GitHubClient) -> None:
        async with self._connection() as conn:
            ticket, link = await self._read(conn)
        assert link.issue_number is not None
        changes: dict[str, Any] = {}
        if ticket.title != link.pushed_title:
            changes["title"] = ticket.title
        want_open = service.is_open(ticket)
        if want_open != link.pushed_open:
            changes["state"] = "open" if want_open else "closed"
            if not want_open:
                changes["state_reason"] = _close_reason(ticket)
        if not changes:
            return
        owner, name = link.owner_and_name
        issue = await client.update_issue(owner, name, link.issue_number, **changes)
        async with self._connection() as conn:
            await service.record_pushed(
                conn,
                self.ticket_id,
                pushed_title=ticket.title,
                pushed_open=want_open,
                issue_title=issue.title,
            )

    # --- comments -----------------------------------------------------------------------

    async def _mirror_comments(self, client: GitHubClient) -> None:
        async with self._connection() as conn:
            ticket, link = await self._read(conn)
            # Read as a submitter would: internal notes are not even loaded.
            reader = dataclasses.replace(await self._actor(conn), role="user")
            conversation = await comments.list_comments(conn, reader, ticket)
            due = [
                c
                for c in conversation
                if c.source == "ticketdesk" and not c.is_internal and c.created_at >= link.linked_at
            ]
            mirrors = await service.comment_mirrors(conn, [c.id for c in due])
        assert link.issue_number is not None
        owner, name = link.owner_and_name
        for comment in due:
            mirror = mirrors.get(comment.id)
            if mirror is not None and mirror.mirrored_at is not None:
                continue
            github_id = None
            if mirror is not None:  # an earlier post may have reached GitHub
                github_id = await self._find_lost_comment(
                    client, owner, name, link.issue_number, comment.id
                )
            if github_id is None:
                async with self._connection() as conn:
                    await service.start_comment_mirror(conn, comment.id)
                posted = await client.create_comment(
                    owner, name, link.issue_number, _comment_body(comment)
                )
                github_id = posted.id
            async with self._connection() as conn:
                await service.finish_comment_mirror(conn, comment.id, github_id)

    async def _find_lost_comment(
        self,
        client: GitHubClient,
        owner: str,
        name: str,
        number: int,
        comment_id: UUID,
    ) -> int | None:
        posted = await client.list_comments(owner, name, number)
        for candidate in posted:
            if service.comment_id_in_body(candidate.body) == comment_id:
                return candidate.id
        return None

    # --- finding an issue an earlier attempt may have created ---------------------------

    async def _find_lost_issue(
        self, client: GitHubClient, link: Link, ticket: Ticket
    ) -> Issue | None:
        owner, name = link.owner_and_name
        assert link.create_attempted_at is not None
        async with self._connection() as conn:
            known = await service.highest_issue_number(conn, link.repo)
        newest = await _newest_issue_number(client, owner, name, known)
        since = link.create_attempted_at - CLOCK_SKEW
        older_seen = 0
        for scanned, number in enumerate(range(newest, 0, -1)):
            if scanned >= MAX_RECOVERY_SCAN:
                raise GiveUp(
                    "Could not tell whether an earlier attempt created this ticket's issue: "
                    f"more than {MAX_RECOVERY_SCAN} issues were opened since. Look for it on "
                    "GitHub before retrying the job, which searches again."
                )
            try:
                issue = await client.get_issue(owner, name, number)
            except GitHubNotFound:
                continue
            if service.ticket_id_in_issue(issue.body) == ticket.id:
                return issue
            if issue.created_at < since:
                older_seen += 1
                if older_seen >= OLDER_ISSUES_TO_STOP:
                    return None
        return None


async def _newest_issue_number(client: GitHubClient, owner: str, name: str, known: int) -> int:
    """The highest issue number GitHub has given out in the repository (0 for none)."""
    low, step = known, 1
    while await client.issue_exists(owner, name, low + step):
        low, step = low + step, step * 2
    high = low + step
    # low is given out (or 0), high is not: bisect.
    while high - low > 1:
        middle = (low + high) // 2
        if await client.issue_exists(owner, name, middle):
            low = middle
        else:
            high = middle
    for probe in range(low + 2, low + 2 + HOLE_PROBES):
        if await client.issue_exists(owner, name, probe):
            return await _newest_issue_number(client, owner, name, probe)
    return low


def _close_reason(ticket: Ticket) -> Literal["completed", "not_planned"]:
    # Closed after being resolved: done. Closed straight from open/in progress: not planned.
    return "completed" if ticket.resolved_at is not None else "not_planned"


def _comment_body(comment: Comment) -> str:
    # Staff are named; a submitter is not, since the repository may be public.
    who = (
        f"**{comment.author.name}** ({comment.author.role})"
        if comment.author.role != "user"
        else "**The reporter**"
    )
    return f"{who} wrote in ticketdesk:\n\n{comment.body}\n\n{service.comment_marker(comment.id)}\n"
