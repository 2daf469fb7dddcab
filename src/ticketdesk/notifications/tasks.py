"""Sending ticket mail.

How a burst of changes becomes one mail, retried without loss or duplicates, is in
``notifications.service``'s docstring.
"""

import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

import psycopg
from procrastinate import JobContext

from ticketdesk import db
from ticketdesk.jobs.queue import GiveUp, describe_error, is_last_attempt, job_env, redact
from ticketdesk.mail import smtp
from ticketdesk.notifications import service

log = logging.getLogger(__name__)


async def send_notifications(context: JobContext, ticket_id: str, recipient_id: str) -> None:
    """Gather one person's due notifications about a ticket into a mail, and send every
    mail still owed to them about it."""
    env = job_env(context.additional_context)
    settings = env.settings
    target = settings.smtp
    if target is None:
        raise GiveUp("Mail is switched off (smtp_url is unset).")
    ticket, recipient = UUID(ticket_id), UUID(recipient_id)
    async with db.connection(env.pool) as conn:
        async with conn.transaction():
            await service.gather_due(conn, settings, ticket, recipient)
        mails = await service.unsent_mails(conn, ticket, recipient)
    failed = []
    for mail in mails:
        async with db.connection(env.pool) as conn:
            try:
                message = await service.compose(conn, settings, mail)
            except psycopg.OperationalError:
                raise  # the database, not the mail: the job is retried
            except Exception as exc:
                # A mail that cannot be put together now never will be: it must not
                # hold back the pair's later mails.
                error = describe_error(exc, env.secrets())
                await service.mark_failed(conn, mail, error)
                failed.append(error)
                continue
            if message is None:
                await service.cancel(conn, mail)
                continue
        try:
            await smtp.send(target, message)
        except smtp.MailRefused as exc:
            error = redact(str(exc), env.secrets())
            async with db.connection(env.pool) as conn:
                await service.mark_failed(conn, mail, error)
            failed.append(error)
            continue
        except smtp.MailUnavailable as exc:
            error = redact(str(exc), env.secrets())
            async with db.connection(env.pool) as conn:
                await service.note_attempt_error(conn, mail, error)
                if is_last_attempt(context.job, settings.jobs.max_attempts):
                    # No job will send them now: admins see them, and can send them again.
                    await service.fail_unsent(conn, ticket, recipient, error)
            raise
        async with db.connection(env.pool) as conn:
            await service.mark_sent(conn, mail)
    if failed:
        raise GiveUp(f"A mail failed: {failed[0]}")


async def mail_address_follower(context: JobContext, follower_id: str, comment_id: str) -> None:
    """Mail one public reply to an address with no account that follows its ticket.

    An unreachable server retries the job (the same Message-ID each time); a refusal gives
    up, logged. No settings and no burst: the address has no account to keep them.
    """
    env = job_env(context.additional_context)
    target = env.settings.smtp
    if target is None:
        raise GiveUp("Mail is switched off (smtp_url is unset).")
    async with db.connection(env.pool) as conn:
        message = await service.compose_address_mail(
            conn, env.settings, UUID(follower_id), UUID(comment_id)
        )
    if message is None:
        return
    try:
        await smtp.send(target, message)
    except smtp.MailRefused as exc:
        error = redact(str(exc), env.secrets())
        raise GiveUp(f"The mail to a follower was refused: {error}") from exc


TASKS: dict[str, Callable[..., Awaitable[None]]] = {
    service.SEND_TASK: send_notifications,
    service.FOLLOWER_TASK: mail_address_follower,
}
