"""Moving over from django-helpdesk: read its tickets, from its database or its REST API,
and import them through ``imports.service``.

What becomes what:

- a queue: a label named after its title (created when missing);
- a status: Open and Reopened → open (on hold → waiting), Resolved → resolved, Closed
  → closed, Duplicate → closed with the label ``duplicate``;
- a priority: 1 → critical, 2 → high, 3 → medium, 4 and 5 → low;
- the submitter's address: the submitter's account (created without a password when
  missing); a ticket without one: submitted by the admin who imports;
- a staff member (``is_staff``) still active: the agent with the same address, created
  without a password when missing; the assignee and the authors of follow-ups; a
  deactivated one (someone who left) gets no account: their tickets are unassigned and
  their follow-ups the importing admin's, headed by their name;
- a follow-up: a comment, an internal note when it was not public; one without an
  author: the submitter's when public, the importing admin's when not; the one
  django-helpdesk writes when a ticket is opened, repeating its description: left out;
- the ticket's id: its external id, so that importing again skips it.

Titles shorter than ticketdesk's 10 characters and descriptions shorter than its 20 are
completed with the ticket's django-helpdesk number. Attachments stay in django-helpdesk
(its files are on its server's disk): the import counts them, and says so.

django-helpdesk's REST API names queues and users by number only and gives no creation
time: read through it, a queue's label is ``queue N``, a ticket was created at its first
follow-up, assignments are left out and staff follow-ups are the importing admin's,
headed by who wrote them in django-helpdesk.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from ticketdesk.audit import service as audit
from ticketdesk.db import Connection
from ticketdesk.errors import InvalidInput, NotFound
from ticketdesk.imports import service as imports
from ticketdesk.imports.schemas import ImportResult, RowError
from ticketdesk.labels import service as labels
from ticketdesk.labels.schemas import LabelCreate
from ticketdesk.users import service as users

SOURCE = "django-helpdesk"
DUPLICATE_LABEL = "duplicate"

# django-helpdesk's default status and priority numbers (helpdesk/settings.py).
_OPEN, _REOPENED, _RESOLVED, _CLOSED, _DUPLICATE = 1, 2, 3, 4, 5
_STATUSES = {
    _OPEN: "open",
    _REOPENED: "open",
    _RESOLVED: "resolved",
    _CLOSED: "closed",
    _DUPLICATE: "closed",
}
_PRIORITIES = {1: "critical", 2: "high", 3: "medium", 4: "low", 5: "low"}
_MIN_TITLE, _MAX_TITLE, _MIN_DESCRIPTION = 10, 200, 20
_MAX_LABEL = 50
_MAX_BODY = 65536
_PAGE_SIZE = 100


class SourceError(Exception):
    """The django-helpdesk data cannot be read: not reachable, or not django-helpdesk's."""


@dataclass(frozen=True)
class Person:
    """A django-helpdesk account."""

    email: str
    name: str
    is_staff: bool
    is_active: bool = True

    @property
    def agent(self) -> bool:
        """Staff who may still sign in: an agent in ticketdesk."""
        return self.is_staff and self.is_active


@dataclass(frozen=True)
class FollowUp:
    """A follow-up: ``user`` the helpdesk user's id (None: written by no account)."""

    date: datetime
    title: str
    comment: str
    public: bool
    user: int | None


@dataclass(frozen=True)
class Ticket:
    """A django-helpdesk ticket. ``created`` None: its source does not give it."""

    id: int
    queue: int
    title: str
    description: str
    submitter_email: str
    assigned_to: int | None
    status: int
    on_hold: bool
    priority: int
    created: datetime | None
    modified: datetime | None
    followups: list[FollowUp]


@dataclass
class Helpdesk:
    """What was read: queue titles and people by id (empty when the source names them
    by number only), the tickets in id order, the attachments left behind."""

    where: str
    tickets: list[Ticket]
    queues: dict[int, str] = field(default_factory=dict)
    people: dict[int, Person] = field(default_factory=dict)
    attachments: int = 0


def _api_shown(url: str) -> str:
    """An API's address without credentials, to name the source in the import's record."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"[:255]


def _database_shown(url: str) -> str:
    """A database's server and name without credentials, likewise."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise SourceError(f"--database-url is not a PostgreSQL address: {exc}") from exc
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{parts.get('host', '')}{port}/{parts.get('dbname', '')}"[:255]


# --- reading its database -----------------------------------------------------------------

_REQUIRED_TABLES = ("helpdesk_queue", "helpdesk_ticket", "helpdesk_followup")

# The table the tickets' assignee references: auth_user, or a custom user model's.
_USER_TABLE = """
select c.confrelid::regclass::text as name
from pg_constraint c
join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
where c.conrelid = 'helpdesk_ticket'::regclass and c.contype = 'f'
    and a.attname = 'assigned_to_id'
"""
_COLUMNS = """
select attname as name from pg_attribute
where attrelid = %(table)s::regclass and attnum > 0 and not attisdropped
"""


_Source = psycopg.AsyncConnection[dict[str, Any]]


async def _rows(
    conn: _Source, query: str | sql.Composed, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    return await (await conn.execute(query, params)).fetchall()


async def _user_rows(conn: _Source) -> dict[int, Person]:
    found = await _rows(conn, _USER_TABLE)
    if not found:
        raise SourceError("helpdesk_ticket.assigned_to_id references no user table.")
    table = found[0]["name"]
    columns = {row["name"] for row in await _rows(conn, _COLUMNS, {"table": table})}
    if not {"id", "email"} <= columns:
        raise SourceError(f"The user table {table} has no id and email columns.")

    def column(name: str, otherwise: str) -> sql.Composable:
        return sql.Identifier(name) if name in columns else sql.SQL(otherwise)

    query = sql.SQL(
        "select id, email, {first} as first_name, {last} as last_name, {username} as username,"
        " {staff} as is_staff, {active} as is_active from {table}"
    ).format(
        first=column("first_name", "''"),
        last=column("last_name", "''"),
        username=column("username", "''"),
        staff=column("is_staff", "false"),
        active=column("is_active", "true"),
        table=sql.SQL(table),
    )
    people = {}
    for row in await _rows(conn, query):
        name = " ".join(part for part in (row["first_name"], row["last_name"]) if part)
        people[row["id"]] = Person(
            email=(row["email"] or "").strip(),
            name=(name or row["username"] or "").strip(),
            is_staff=bool(row["is_staff"]),
            is_active=bool(row["is_active"]),
        )
    return people


async def read_database(url: str) -> Helpdesk:
    """Everything the import needs from a django-helpdesk database, read in one
    snapshot; ``SourceError`` when it cannot be reached or holds no django-helpdesk."""
    where = _database_shown(url)
    try:
        conn = await psycopg.AsyncConnection.connect(url, row_factory=dict_row)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise SourceError(
            f"Cannot connect to the django-helpdesk database at {where}: {reason}"
        ) from exc
    async with conn:
        await conn.execute("set transaction isolation level repeatable read, read only")
        present = await _rows(
            conn,
            "select relname from pg_class where relname = any(%(names)s) and relkind = 'r'",
            {"names": [*_REQUIRED_TABLES, "helpdesk_followupattachment"]},
        )
        tables = {row["relname"] for row in present}
        missing = [name for name in _REQUIRED_TABLES if name not in tables]
        if missing:
            raise SourceError(
                f"Not a django-helpdesk database: it has no table {', '.join(missing)}."
            )
        people = await _user_rows(conn)
        queues = {
            row["id"]: row["title"]
            for row in await _rows(conn, "select id, title from helpdesk_queue")
        }
        followups: dict[int, list[FollowUp]] = {}
        for row in await _rows(
            conn,
            "select ticket_id, date, title, comment, public, user_id from helpdesk_followup"
            " order by ticket_id, date, id",
        ):
            followups.setdefault(row["ticket_id"], []).append(
                FollowUp(
                    date=row["date"],
                    title=row["title"] or "",
                    comment=row["comment"] or "",
                    public=row["public"],
                    user=row["user_id"],
                )
            )
        tickets = [
            Ticket(
                id=row["id"],
                queue=row["queue_id"],
                title=row["title"],
                description=row["description"] or "",
                submitter_email=(row["submitter_email"] or "").strip(),
                assigned_to=row["assigned_to_id"],
                status=row["status"],
                on_hold=row["on_hold"],
                priority=row["priority"],
                created=row["created"],
                modified=row["modified"],
                followups=followups.get(row["id"], []),
            )
            for row in await _rows(
                conn,
                "select id, queue_id, title, description, submitter_email, assigned_to_id,"
                " status, on_hold, priority, created, modified from helpdesk_ticket order by id",
            )
        ]
        attachments = 0
        if "helpdesk_followupattachment" in tables:
            counted = await _rows(conn, "select count(*) as n from helpdesk_followupattachment")
            attachments = counted[0]["n"]
    return Helpdesk(
        where=where, tickets=tickets, queues=queues, people=people, attachments=attachments
    )


# --- reading its REST API -----------------------------------------------------------------


def _time(value: str) -> datetime:
    """An API time; one without an offset (a site with ``USE_TZ = False``) as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


async def _pages(client: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Every item of a paginated list, following its ``next`` links."""
    items: list[dict[str, Any]] = []
    shown = _api_shown(url)
    next_url: str | None = url
    while next_url is not None:
        try:
            response = await client.get(next_url)
        except httpx.HTTPError as exc:
            raise SourceError(f"Cannot reach the django-helpdesk API at {shown}: {exc}") from exc
        if response.status_code in (401, 403):
            raise SourceError(
                "The django-helpdesk API refused the credentials (it needs a staff account)."
            )
        if response.status_code != 200:
            raise SourceError(
                f"The django-helpdesk API answered {response.status_code} to {shown}."
            )
        try:
            page = response.json()
            items.extend(page["results"])
            next_url = page["next"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"{shown} is not django-helpdesk's ticket list.") from exc
    return items


async def read_api(
    api_url: str,
    *,
    token: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> Helpdesk:
    """The tickets and their follow-ups from django-helpdesk's REST API (its ``/api/``
    root), signed in with a DRF token or a staff user's name and password."""
    headers = {"Accept": "application/json"}
    auth = None
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    elif username is not None and password is not None:
        auth = httpx.BasicAuth(username, password)
    root = api_url if api_url.endswith("/") else f"{api_url}/"
    async with httpx.AsyncClient(headers=headers, auth=auth, timeout=30) as client:
        rows = await _pages(client, urljoin(root, f"tickets/?page_size={_PAGE_SIZE}"))
    tickets = []
    attachments = 0
    for row in sorted(rows, key=lambda row: int(row["id"])):
        attachments += sum(
            len(item.get("followupattachment_set") or []) for item in row.get("followup_set", [])
        )
        followups = sorted(
            (
                FollowUp(
                    date=_time(item["date"]),
                    title=item.get("title") or "",
                    comment=item.get("comment") or "",
                    public=bool(item["public"]),
                    user=item.get("user"),
                )
                for item in row.get("followup_set", [])
            ),
            key=lambda followup: followup.date,
        )
        tickets.append(
            Ticket(
                id=int(row["id"]),
                queue=int(row["queue"]),
                title=row["title"],
                description=row.get("description") or "",
                submitter_email=(row.get("submitter_email") or "").strip(),
                assigned_to=row.get("assigned_to"),
                status=int(row["status"]),
                on_hold=bool(row.get("on_hold")),
                priority=int(row["priority"]),
                created=None,
                modified=None,
                followups=followups,
            )
        )
    return Helpdesk(where=_api_shown(api_url), tickets=tickets, attachments=attachments)


# --- the rows to import -------------------------------------------------------------------


def _label(title: str) -> str:
    """A queue title as a label name: commas become spaces, 50 characters at most."""
    return " ".join(title.replace(",", " ").split())[:_MAX_LABEL].strip() or "queue"


def queue_label(helpdesk: Helpdesk, queue: int) -> str:
    """The label a queue's tickets get."""
    return _label(helpdesk.queues[queue]) if queue in helpdesk.queues else f"queue {queue}"


def _title(ticket: Ticket) -> str:
    title = ticket.title.strip()
    if len(title) < _MIN_TITLE:
        title = f"{title} (django-helpdesk #{ticket.id})".strip()
    return title[:_MAX_TITLE]


def _description(ticket: Ticket) -> str:
    description = ticket.description.strip()
    if len(description) < _MIN_DESCRIPTION:
        note = f"(Imported from django-helpdesk ticket #{ticket.id}.)"
        description = f"{description}\n\n{note}" if description else note
    return description


def _resolved_at(ticket: Ticket, status: str) -> datetime | None:
    if status not in ("resolved", "closed"):
        return None
    return ticket.modified or (ticket.followups[-1].date if ticket.followups else None)


@dataclass(frozen=True)
class Mapped:
    """The rows to import, the labels and staff accounts they need first."""

    rows: list[imports.ImportRow]
    labels: list[str]
    staff: dict[str, str]


def to_rows(helpdesk: Helpdesk, *, admin_email: str) -> Mapped:
    """django-helpdesk's tickets as import rows (row n: the n-th ticket by id)."""
    staff = {
        person.email.lower(): person.name or person.email.partition("@")[0]
        for person in helpdesk.people.values()
        if person.agent and person.email
    }
    names_by_address = {
        person.email.lower(): person.name
        for person in helpdesk.people.values()
        if person.email and person.name
    }
    needed: dict[str, None] = {}
    rows = []
    for number, ticket in enumerate(helpdesk.tickets, start=1):
        problems: list[tuple[str, str]] = []
        status = _STATUSES.get(ticket.status)
        if status is None:
            problems.append(("status", f"django-helpdesk status {ticket.status} is unknown."))
            status = "open"
        elif status == "open" and ticket.on_hold:
            status = "waiting"
        priority = _PRIORITIES.get(ticket.priority)
        if priority is None:
            problems.append(("priority", f"django-helpdesk priority {ticket.priority} is unknown."))
            priority = "medium"
        names = [queue_label(helpdesk, ticket.queue)]
        if ticket.status == _DUPLICATE:
            names.append(DUPLICATE_LABEL)
        needed.update(dict.fromkeys(names))
        submitter = ticket.submitter_email or admin_email
        # django-helpdesk lets any account own a ticket; ticketdesk, active staff only.
        assignee = helpdesk.people.get(ticket.assigned_to) if ticket.assigned_to else None
        if assignee is not None and not assignee.agent:
            assignee = None
        created = ticket.created or (ticket.followups[0].date if ticket.followups else None)
        rows.append(
            imports.ImportRow(
                row=number,
                title=_title(ticket),
                description=_description(ticket),
                submitter_email=submitter,
                submitter_name=names_by_address.get(submitter.lower()),
                priority=priority,
                status=status,
                assignee_email=assignee.email if assignee and assignee.email else None,
                labels=tuple(names),
                created_at=created,
                resolved_at=_resolved_at(ticket, status),
                comments=tuple(_comments(helpdesk, ticket, submitter, admin_email)),
                external_id=str(ticket.id),
                problems=tuple(problems),
            )
        )
    return Mapped(rows=rows, labels=list(needed), staff=staff)


def _comments(
    helpdesk: Helpdesk, ticket: Ticket, submitter: str, admin_email: str
) -> list[imports.ImportComment]:
    comments = []
    description = ticket.description.strip()
    for followup in ticket.followups:
        body = followup.comment.strip() or followup.title.strip()
        # django-helpdesk records a ticket's creation as a follow-up repeating its
        # description: that is the imported ticket's description already.
        if not body or (followup.comment.strip() == description and description):
            continue
        person = helpdesk.people.get(followup.user) if followup.user is not None else None
        if (
            person is not None
            and person.email
            and (person.agent or (followup.public and not person.is_staff))
        ):
            author = person.email
        elif followup.user is not None:
            # Known by number only (read through the API), an account without an address,
            # staff who left, or one no longer staff whose internal note only staff write.
            author = admin_email
            who = (person.name or person.email) if person is not None else ""
            body = (
                f"(Written in django-helpdesk by {who or f'its user {followup.user}'}.)\n\n{body}"
            )
        else:
            author = submitter if followup.public else admin_email
        comments.append(
            imports.ImportComment(
                author_email=author,
                body=body[:_MAX_BODY],
                is_internal=not followup.public,
                created_at=followup.date,
            )
        )
    return comments


# --- checking and importing ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a dry run found or an import wrote."""

    tickets: int
    would_create: int
    already_imported: int
    # Accounts for submitters and other authors without one.
    new_people: int
    labels_created: list[str]
    staff_created: list[str]
    attachments_skipped: int
    errors: list[RowError]
    failing_rows: int
    # Row number → the django-helpdesk ticket's id, to name it in errors.
    helpdesk_ids: dict[int, int]
    result: ImportResult | None


async def _prepare(
    conn: Connection, mapped: Mapped, internal_domains: list[str]
) -> tuple[list[str], list[str]]:
    """Create the labels and the staff accounts that the rows need and that do not exist
    yet; their names and addresses."""
    known = {label.name.lower() for label in await labels.list_labels(conn)}
    created_labels = []
    for name in mapped.labels:
        if name.lower() not in known:
            await labels.create_label(conn, LabelCreate(name=name))
            known.add(name.lower())
            created_labels.append(name)
    created_staff = []
    for address, name in mapped.staff.items():
        try:
            await users.get_user_by_email(conn, address)
        except NotFound:
            try:
                await users.create_user(
                    conn,
                    email=address,
                    name=name[:100],
                    role="agent",
                    password=None,
                    internal_domains=internal_domains,
                    email_verified=False,
                )
            except InvalidInput:
                # Reported by the rows that name this address.
                continue
            created_staff.append(address)
    return created_labels, created_staff


async def run(
    conn: Connection,
    helpdesk: Helpdesk,
    *,
    admin_email: str,
    internal_domains: list[str],
    dry_run: bool,
) -> Outcome:
    """Import ``helpdesk``'s tickets in the caller's transaction, as the admin with
    ``admin_email``; with ``dry_run``, only check them (the caller rolls back what was
    prepared). With a failing row nothing is imported and the outcome lists why."""
    try:
        admin = await users.get_user_by_email(conn, admin_email)
    except NotFound:
        raise InvalidInput(
            f"No account has the address {admin_email}.", code="no_such_admin", field="as"
        ) from None
    if admin.role != "admin":
        raise InvalidInput(f"{admin_email} is not an admin.", code="not_admin", field="as")
    mapped = to_rows(helpdesk, admin_email=admin.email)
    created_labels, created_staff = await _prepare(conn, mapped, internal_domains)
    checked = await imports.check_rows(
        conn, mapped.rows, source=SOURCE, internal_domains=internal_domains
    )
    result = None
    if not dry_run and not checked.errors:
        record = await imports.start_import(
            conn,
            source=SOURCE,
            actor_id=admin.id,
            filename=helpdesk.where,
            content=None,
            columns=[],
            row_count=len(mapped.rows),
        )
        result = await imports.apply_rows(
            conn,
            mapped.rows,
            import_id=record.id,
            source=SOURCE,
            actor_id=admin.id,
            internal_domains=internal_domains,
        )
        await imports.mark_applied(conn, record.id, result)
        await audit.record(
            conn,
            actor_id=admin.id,
            client_address=None,
            action="import.applied",
            target_type="import",
            target_id=str(record.id),
            before=None,
            after={"source": SOURCE, "from": helpdesk.where, **result.model_dump(mode="json")},
        )
    return Outcome(
        tickets=len(mapped.rows),
        would_create=len(checked.ready),
        already_imported=len(checked.already_imported),
        new_people=len(checked.new_people),
        labels_created=created_labels,
        staff_created=created_staff,
        attachments_skipped=helpdesk.attachments,
        errors=checked.errors,
        failing_rows=checked.failing_rows,
        helpdesk_ids={
            row.row: ticket.id for row, ticket in zip(mapped.rows, helpdesk.tickets, strict=True)
        },
        result=result,
    )


def summary(outcome: Outcome, *, dry_run: bool) -> Sequence[str]:
    """The lines the command prints."""
    lines = [f"{outcome.tickets} tickets read"]
    if outcome.failing_rows:
        lines.append(f"{outcome.failing_rows} tickets would not import; nothing was imported:")
        lines += [
            f"  django-helpdesk ticket {outcome.helpdesk_ids[error.row]} ({error.field}):"
            f" {error.message}"
            for error in outcome.errors
        ]
        return lines
    verb = "would be" if dry_run else "were"
    lines.append(f"{outcome.would_create} {verb} created")
    lines.append(f"{outcome.already_imported} imported before, skipped")
    if outcome.new_people:
        lines.append(f"accounts of submitters {verb} created: {outcome.new_people}")
    if outcome.staff_created:
        lines.append(f"agents {verb} created: {', '.join(outcome.staff_created)}")
    if outcome.labels_created:
        lines.append(f"labels {verb} created: {', '.join(outcome.labels_created)}")
    if outcome.attachments_skipped:
        lines.append(
            f"attachments not imported: {outcome.attachments_skipped} (their files are on the"
            " django-helpdesk server)"
        )
    if outcome.result is not None and outcome.result.first_number is not None:
        lines.append(
            f"ticket numbers {outcome.result.first_number} to {outcome.result.last_number}"
        )
    return lines
