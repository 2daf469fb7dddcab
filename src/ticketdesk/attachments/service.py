"""Files attached to tickets."""

from uuid import UUID

from psycopg.rows import class_row

from ticketdesk.attachments.schemas import Attachment
from ticketdesk.db import Connection
from ticketdesk.sql import load_queries

Q = load_queries(__package__)


async def list_attachments(conn: Connection, ticket_id: UUID) -> list[Attachment]:
    """A ticket's files, oldest first."""
    cur = conn.cursor(row_factory=class_row(Attachment))
    await cur.execute(Q.list_attachments, {"ticket_id": ticket_id})
    return await cur.fetchall()
