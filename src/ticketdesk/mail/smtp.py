"""Handing a message to the configured SMTP server.

What a failure means is in its type: ``MailRefused`` (the server refused this message
for good: a 5xx answer to its sender, recipients or content) is recorded and not
retried; ``MailUnavailable`` (the server cannot be reached, answered 4xx "try later", or
refused to let ticketdesk sign in) is retried by the job that sends.
"""

from email.message import EmailMessage

import aiosmtplib

from ticketdesk.config import SmtpTarget

# An SMTP server that has not answered in this long is treated as unavailable.
TIMEOUT_SECONDS = 30.0


class MailRefused(Exception):
    """The SMTP server refused the message for good (a 5xx answer)."""


class MailUnavailable(Exception):
    """The message could not be handed over now; trying again later may work."""


async def send(target: SmtpTarget, message: EmailMessage) -> None:
    """Hand ``message`` to ``target``, to the recipients its headers name."""
    try:
        await aiosmtplib.send(
            message,
            hostname=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.use_tls,
            start_tls=target.start_tls,
            timeout=TIMEOUT_SECONDS,
        )
    except (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPDataError) as exc:
        # The server answered about this message. Failing to sign in or to greet is a
        # problem of the set-up, not of the message: it is retried while an admin fixes it.
        if exc.code >= 500:
            raise MailRefused(f"{exc.code} {exc.message}") from None
        raise MailUnavailable(f"{exc.code} {exc.message}") from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        answers = [f"{r.code} {r.message}" for r in exc.recipients]
        if all(r.code >= 500 for r in exc.recipients):
            raise MailRefused("; ".join(answers)) from None
        raise MailUnavailable("; ".join(answers)) from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailUnavailable(f"{type(exc).__name__}: {exc}") from None
