-- A comment copied from GitHub may be longer than one written here: GitHub's own limit
-- is 65,536 characters, counted its way, so its copies get four times that. The API
-- still takes at most 65,536 from people here. Widening the check scans comments once
-- under the ACCESS EXCLUSIVE lock the alter takes (held to the end of this file's
-- transaction): give up rather than queue every reader behind it.
set local lock_timeout = '5s';

alter table comments
    drop constraint comments_body_check,
    add constraint comments_body_check check (char_length(body) between 1 and 262144);
