-- Personal access tokens get an optional end, a scope (read: GET and HEAD only), and the
-- token they were made with, so that revoking a token revokes every token made from it.
alter table api_tokens
    add column expires_at timestamptz,
    add column scope text not null default 'write' check (scope in ('read', 'write')),
    add column parent_id uuid references api_tokens on delete cascade;
-- Revoking walks down from a token to those made with it.
create index api_tokens_parent_idx on api_tokens (parent_id) where parent_id is not null;
