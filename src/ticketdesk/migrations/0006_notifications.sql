-- Mail about tickets: who does not want which kind, what is waiting to be sent, what was
-- sent or refused. See ticketdesk/notifications/service.py for how the rows move.

-- One row: how the running processes were started, so the change hook inside a ticket's
-- transaction knows whether to queue mail at all, and how long a burst lasts.
create table notification_settings (
    singleton boolean primary key default true check (singleton),
    mail_enabled boolean not null default false,
    new_tickets text not null default 'all' check (new_tickets in ('all', 'unassigned', 'none')),
    burst_seconds double precision not null default 60,
    updated_at timestamptz not null default now()
);

-- Every kind of mail is on until its user turns it off.
create table notification_opt_outs (
    user_id uuid not null references users on delete cascade,
    kind text not null,
    created_at timestamptz not null default now(),
    primary key (user_id, kind)
);

-- One mail to one person about one ticket, carrying one or more notifications. Its
-- Message-ID is fixed when it is put together, so a retry sends the same message.
create table notification_mails (
    id uuid primary key default uuidv7(),
    ticket_id uuid not null references tickets on delete cascade,
    recipient_id uuid not null references users on delete cascade,
    message_id text not null,
    -- pending: to send; sent: the server took it; failed: the server refused it for
    -- good; cancelled: nothing left to say (its recipient was deactivated, say).
    status text not null default 'pending'
        check (status in ('pending', 'sent', 'failed', 'cancelled')),
    attempts integer not null default 0,
    last_error text,
    created_at timestamptz not null default now(),
    sent_at timestamptz,
    failed_at timestamptz
);
create index notification_mails_pending_idx on notification_mails (ticket_id, recipient_id, id)
    where status = 'pending';
-- The admin list of refused mail, newest first.
create index notification_mails_failed_idx on notification_mails (id) where status = 'failed';

-- Something one person should hear about a ticket. Pending while mail_id is null.
create table notifications (
    id uuid primary key default uuidv7(),
    ticket_id uuid not null references tickets on delete cascade,
    recipient_id uuid not null references users on delete cascade,
    kind text not null,
    actor_id uuid references users,
    data jsonb not null default '{}',
    mail_id uuid references notification_mails on delete cascade,
    created_at timestamptz not null default now()
);
create index notifications_pending_idx on notifications (ticket_id, recipient_id, id)
    where mail_id is null;
create index notifications_mail_idx on notifications (mail_id, id);

-- An open burst: pending notifications for (ticket, recipient) and the one job, due at
-- due_at, that will gather them into a mail. The row exists exactly while such a job
-- is owed; see the service's docstring for why it is locked the way it is.
create table notification_batches (
    ticket_id uuid not null references tickets on delete cascade,
    recipient_id uuid not null references users on delete cascade,
    due_at timestamptz not null,
    primary key (ticket_id, recipient_id)
);

-- Critical tickets admins were alerted about, once each.
create table ticket_escalations (
    ticket_id uuid primary key references tickets on delete cascade,
    escalated_at timestamptz not null default now()
);
