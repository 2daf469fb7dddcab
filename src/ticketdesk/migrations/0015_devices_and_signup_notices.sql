-- Failed sign-ins from a device the account signed in from before (its device cookie)
-- count against that device alone, not against the address or the client's address.
alter table login_failures add column device text;
create index login_failures_device_idx on login_failures (device, failed_at)
    where device is not null;

-- When the owner was last mailed that someone signed up with their address: at most one
-- such mail an hour.
alter table users add column signup_notice_at timestamptz;
