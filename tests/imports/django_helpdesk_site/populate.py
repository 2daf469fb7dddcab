"""Fill a migrated django-helpdesk database with a fixed data set, through its own models.

Run as ``python -m tests.imports.django_helpdesk_site.populate`` with
``DJANGO_SETTINGS_MODULE`` and ``HELPDESK_DATABASE_URL`` set; prints the API token of
the staff member Ada.
"""

from datetime import UTC, datetime

import django


def at(day: int, hour: int) -> datetime:
    return datetime(2024, 3, day, hour, 0, tzinfo=UTC)


def main() -> None:
    django.setup()
    from django.contrib.auth.models import User
    from django.core.files.base import ContentFile
    from helpdesk.models import FollowUp, FollowUpAttachment, Queue, Ticket
    from rest_framework.authtoken.models import Token

    ada = User.objects.create_user(
        "ada", "ada@helpdesk.example.com", "ada-password", first_name="Ada", last_name="Agent"
    )
    ada.is_staff = True
    ada.save()
    User.objects.create_superuser("root", "root@helpdesk.example.com", "root-password")
    carol = User.objects.create_user("carol", "carol@customer.example.com", "carol-password")
    support = Queue.objects.create(title="Support desk", slug="support")
    billing = Queue.objects.create(title="Billing, invoices", slug="billing")

    times = {}

    def ticket(**fields: object) -> Ticket:
        created, modified = fields.pop("created"), fields.pop("modified")
        made = Ticket.objects.create(**fields)
        times[made.pk] = (created, modified)
        return made

    def followup(on: Ticket, **fields: object) -> FollowUp:
        return FollowUp.objects.create(ticket=on, **fields)

    printer = ticket(
        title="The printer on floor 2 jams on every page",
        description="Since Monday every print job jams after the first page.",
        queue=support,
        submitter_email="carol@customer.example.com",
        assigned_to=ada,
        status=Ticket.OPEN_STATUS,
        priority=1,
        created=at(1, 9),
        modified=at(2, 10),
    )
    followup(printer, date=at(1, 11), comment="It jams on duplex jobs too.", public=True)
    followup(
        printer,
        date=at(1, 12),
        user=ada,
        comment="Firmware 2.1 is known to do this; do not tell the customer yet.",
        public=False,
    )
    answer = followup(
        printer,
        date=at(2, 10),
        user=ada,
        comment="We are sending a technician tomorrow morning.",
        public=True,
    )
    FollowUpAttachment.objects.create(
        followup=answer,
        file=ContentFile(b"visit at 9", name="visit.txt"),
        filename="visit.txt",
        mime_type="text/plain",
        size=10,
    )
    refund = ticket(
        title="Refund",
        description="Charged twice.",
        queue=billing,
        submitter_email="dave@customer.example.com",
        status=Ticket.RESOLVED_STATUS,
        priority=3,
        created=at(3, 8),
        modified=at(4, 16),
    )
    followup(refund, date=at(4, 16), user=carol, comment="Thanks, it arrived.", public=True)
    ticket(
        title="Printer jams again on the second floor",
        description="Same as the other ticket about the printer jamming.",
        queue=support,
        submitter_email="erin@customer.example.com",
        status=Ticket.DUPLICATE_STATUS,
        priority=5,
        created=at(5, 9),
        modified=at(5, 10),
    )
    ticket(
        title="VPN drops every ten minutes",
        description="The VPN disconnects every ten minutes since the update.",
        queue=support,
        submitter_email="carol@customer.example.com",
        status=Ticket.REOPENED_STATUS,
        on_hold=True,
        priority=2,
        created=at(6, 9),
        modified=at(7, 9),
    )
    ticket(
        title="Old invoice address on the PDF",
        description="The invoice PDF still shows our old postal address.",
        queue=billing,
        submitter_email="",
        status=Ticket.CLOSED_STATUS,
        priority=4,
        created=at(8, 9),
        modified=at(9, 9),
    )
    # Saving a ticket or a follow-up stamps the ticket with the present; an old
    # helpdesk's tickets have their own times.
    for pk, (created, modified) in times.items():
        Ticket.objects.filter(pk=pk).update(created=created, modified=modified)
    print(Token.objects.create(user=ada).key)


if __name__ == "__main__":
    main()
