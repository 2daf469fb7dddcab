-- Teams of staff, the team a ticket is routed to, agents away from their desk, and the
-- assignment rules that route new tickets.

-- An agent away (on leave, off shift) is passed over by round-robin assignment.
alter table users add column is_away boolean not null default false;

create table teams (
    id uuid primary key default uuidv7(),
    name text not null check (char_length(name) between 1 and 100),
    -- Round robin: every ticket the team hands out by rotation takes the next number.
    rotation bigint not null default 0,
    created_at timestamptz not null default now()
);
create unique index teams_name_key on teams (lower(name));

create table team_members (
    team_id uuid not null references teams on delete cascade,
    user_id uuid not null references users on delete cascade,
    -- The team's rotation number of the last ticket this member was given by round
    -- robin; null: none yet. The member with the lowest is next.
    last_rotation bigint,
    primary key (team_id, user_id)
);
-- "My teams": the teams a person is in.
create index team_members_user_idx on team_members (user_id);

-- No cascade: a team is taken off its tickets by the service, each change recorded.
alter table tickets add column team_id uuid references teams;
-- Team queues, newest (or oldest) first, read in order: a queue's page stops after its
-- rows instead of sorting every ticket of the team; the status is checked on the way.
create index tickets_team_idx on tickets (team_id, created_at, id);

create table assignment_rules (
    id uuid primary key default uuidv7(),
    name text not null check (char_length(name) between 1 and 100),
    -- Rules run in this order; positions are kept 1..n by the service.
    position integer not null,
    enabled boolean not null default true,
    -- Also run when a ticket's type, priority, labels or metadata change.
    on_update boolean not null default false,
    -- Once this rule fires, the rules after it do not run.
    stop_processing boolean not null default false,
    conditions jsonb not null default '{}' check (jsonb_typeof(conditions) = 'object'),
    actions jsonb not null check (jsonb_typeof(actions) = 'object'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index assignment_rules_position_idx on assignment_rules (position, id);
