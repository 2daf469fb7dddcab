-- One search document per ticket and audience, so that a search is one GIN lookup on
-- tickets instead of "the ticket's own words or any of its comments' words":
--   search_public: title (weight A), description (B) and public comments (C);
--   search_staff:  search_public plus internal notes (C).
-- Triggers keep both current (below); the old per-row documents go.
--
-- Each document is bounded, well below tsvector's 1 MB: the title (at most 200
-- characters), the description's first 20,000 characters, and from the comments of each
-- kind (public, internal) the newest 200, each cut to its first 4,000 characters, at most
-- 40,000 characters in all. A ticket's older comments beyond that are not searched.
--
-- Bulk loading (bench/fill.py): load tickets and comments with their triggers disabled,
-- then run `select ticket_search_refresh()` once, set-based; pass ticket ids to refresh
-- only those.
set local lock_timeout = '5s';

alter table tickets
    drop column search,
    add column search_public tsvector not null default '',
    add column search_staff tsvector not null default '';
alter table comments drop column search;

-- The text a ticket's comments of one kind contribute (null when there are none).
create function ticket_search_comments(ticket uuid, internal boolean) returns text
language sql stable as $$
    select left(string_agg(left(body, 4000), ' ' order by created_at desc, id desc), 40000)
    from (
        select body, created_at, id from comments
        where ticket_id = ticket and is_internal = internal
        order by created_at desc, id desc
        limit 200
    ) newest
$$;

-- A ticket's own words: title and description.
create function ticket_search_own(title text, description text) returns tsvector
language sql immutable as $$
    select setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', left(description, 20000)), 'B')
$$;

create function ticket_search_words(body text) returns tsvector
language sql immutable as $$
    select setweight(to_tsvector('english', coalesce(body, '')), 'C')
$$;

-- Rebuild the documents of the tickets named (every ticket when null), set-based; returns
-- how many changed. The trigger on comments uses it, and bulk loads call it once.
create function ticket_search_refresh(ticket_ids uuid[] default null) returns bigint
language plpgsql as $$
declare
    changed bigint;
begin
    -- PL/pgSQL plans this for the value given: by primary key for a list of ids.
    with documents as (
        select id, public, public || ticket_search_words(ticket_search_comments(id, true)) as staff
        from (
            select id,
                   ticket_search_own(title, description)
                       || ticket_search_words(ticket_search_comments(id, false)) as public
            from tickets
            where ticket_ids is null or id = any(ticket_ids)
        ) own
    ), updated as (
        update tickets t set search_public = d.public, search_staff = d.staff
        from documents d
        where t.id = d.id
          and (t.search_public, t.search_staff) is distinct from (d.public, d.staff)
        returning 1
    )
    select count(*) into changed from updated;
    return changed;
end
$$;

-- A new ticket has no comments yet; a new title or description rebuilds both documents.
create function tickets_search_documents() returns trigger
language plpgsql as $$
begin
    new.search_public := ticket_search_own(new.title, new.description);
    if tg_op = 'UPDATE' then
        new.search_public := new.search_public
            || ticket_search_words(ticket_search_comments(new.id, false));
    end if;
    new.search_staff := new.search_public;
    if tg_op = 'UPDATE' then
        new.search_staff := new.search_staff
            || ticket_search_words(ticket_search_comments(new.id, true));
    end if;
    return new;
end
$$;

create trigger tickets_search_documents
    before insert or update of title, description on tickets
    for each row execute function tickets_search_documents();

-- A comment added, edited (here or on GitHub), deleted or turned between note and reply.
-- The ticket is locked first, so that the rebuild (a new snapshot) sees every comment a
-- concurrent writer committed before it.
create function comments_search_documents() returns trigger
language plpgsql as $$
declare
    ticket uuid := coalesce(new.ticket_id, old.ticket_id);
begin
    perform from tickets where id = ticket for no key update;
    perform ticket_search_refresh(array[ticket]);
    if tg_op = 'UPDATE' and new.ticket_id <> old.ticket_id then
        perform from tickets where id = old.ticket_id for no key update;
        perform ticket_search_refresh(array[old.ticket_id]);
    end if;
    return null;
end
$$;

create trigger comments_search_documents
    after insert or delete or update of body, is_internal, ticket_id on comments
    for each row execute function comments_search_documents();

select ticket_search_refresh();

create index tickets_search_public_idx on tickets using gin (search_public);
create index tickets_search_staff_idx on tickets using gin (search_staff);

-- A word that is not among a document column's most common ones is estimated at half the
-- rarest one's frequency. With the default statistics (1,000 words) that is about 0.4 %
-- of the tickets at 1,000,000, so a word in no ticket looked common enough to walk the
-- newest-first index until the end: 2.2 s. With 10,000 words the estimate is 0.03 %
-- and such a search reads the GIN index instead (0.2 ms); common words still walk the
-- index and stop at the first page.
alter table tickets
    alter column search_public set statistics 1000,
    alter column search_staff set statistics 1000;

-- GET /tickets/similar scores titles by trigram similarity where the server has pg_trgm
-- (the embedded demo server does not: there, similar tickets are scored by their words).
do $$
begin
    if exists (select from pg_available_extensions where name = 'pg_trgm') then
        create extension if not exists pg_trgm;
    end if;
end
$$;
