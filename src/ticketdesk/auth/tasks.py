"""Mailing account links: password resets, invitations and address confirmations; and
telling an account's owner that someone tried to sign up with their address.

Jobs carry ids only. ``send_account_link`` mails a link made in the request that caused
it (an invitation, a sign-up); its secret is worked out again here (see ``links``).
``answer_link_request`` answers someone asking for a link by address: only here is the
address looked up, so the request itself did the same work for any address.
"""

import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from procrastinate import JobContext

from ticketdesk import db
from ticketdesk.auth import links
from ticketdesk.auth.links import LinkPurpose
from ticketdesk.config import SmtpTarget
from ticketdesk.jobs.queue import GiveUp, JobEnv, job_env
from ticketdesk.mail import smtp
from ticketdesk.mail.smtp import MailRefused

log = logging.getLogger(__name__)


async def send_account_link(context: JobContext, link_id: str) -> None:
    """Mail a reset, invitation or confirmation link to its person.

    A refusal by the mail server is final (the job fails, for admins to see); a server
    that cannot be reached is tried again later.
    """
    await _send(job_env(context.additional_context), UUID(link_id))


async def answer_link_request(context: JobContext, request_id: int, purpose: LinkPurpose) -> None:
    """Make and mail the link someone asked for by address, if the address has an
    account it is for; otherwise do nothing, and nobody hears of it."""
    env = job_env(context.additional_context)
    _smtp_target(env)
    async with db.transaction(env.pool) as conn:
        link_id = await links.answer_request(conn, env.settings.secret(), request_id, purpose)
    if link_id is not None:
        await _send(env, link_id)


async def send_signup_notice(context: JobContext, user_id: str) -> None:
    """Tell an account's owner that someone tried to sign up with their address."""
    env = job_env(context.additional_context)
    target = _smtp_target(env)
    async with db.transaction(env.pool) as conn:
        recipient = await links.signup_notice_recipient(conn, UUID(user_id))
    if recipient is None:
        return
    try:
        await smtp.send(target, links.signup_notice_mail(env.settings, recipient))
    except MailRefused as exc:
        raise GiveUp(f"The mail server refused the sign-up notice: {exc}") from None


def _smtp_target(env: JobEnv) -> SmtpTarget:
    target = env.settings.smtp
    if target is None:
        raise GiveUp("Mail is switched off: smtp_url is not set.")
    return target


async def _send(env: JobEnv, link_id: UUID) -> None:
    target = _smtp_target(env)
    async with db.transaction(env.pool) as conn:
        link = await links.link_to_send(conn, link_id)
    if link is None:
        log.info("account link %s was used, replaced or expired before it was mailed", link_id)
        return
    try:
        await smtp.send(target, links.link_mail(env.settings, link))
    except MailRefused as exc:
        raise GiveUp(f"The mail server refused the {link.purpose} mail: {exc}") from None


TASKS: dict[str, Callable[..., Awaitable[None]]] = {
    links.SEND_LINK_TASK: send_account_link,
    links.ANSWER_REQUEST_TASK: answer_link_request,
    links.SIGNUP_NOTICE_TASK: send_signup_notice,
}
