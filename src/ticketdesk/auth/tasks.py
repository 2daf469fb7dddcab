"""Mailing account links: password resets, invitations and address checks.

The job carries the link's id only; the secret is worked out again here (see
``links``). A link used, replaced or expired before its mail goes out is not sent.
"""

import logging
from uuid import UUID

from procrastinate import JobContext

from ticketdesk import db
from ticketdesk.auth import links
from ticketdesk.jobs.queue import GiveUp, job_env
from ticketdesk.mail import smtp
from ticketdesk.mail.smtp import MailRefused

log = logging.getLogger(__name__)


async def send_account_link(context: JobContext, link_id: str) -> None:
    """Mail a reset, invitation or confirmation link to its person.

    A refusal by the mail server is final (the job fails, for admins to see); a server
    that cannot be reached is tried again later.
    """
    env = job_env(context.additional_context)
    target = env.settings.smtp
    if target is None:
        raise GiveUp("Mail is switched off: smtp_url is not set.")
    async with db.transaction(env.pool) as conn:
        link = await links.link_to_send(conn, UUID(link_id))
    if link is None:
        log.info("account link %s was used, replaced or expired before it was mailed", link_id)
        return
    try:
        await smtp.send(target, links.link_mail(env.settings, link))
    except MailRefused as exc:
        raise GiveUp(f"The mail server refused the {link.purpose} mail: {exc}") from None


TASKS = {links.SEND_LINK_TASK: send_account_link}
