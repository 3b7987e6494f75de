-- Shared solutions: challenges, co-authored solutions with revisions, endorsements and
-- comments, with full-text search. See docs/decisions/0008-shared-solutions.md.
--
-- The search_* columns hold the text folded by the service (lowercase, no diacritics);
-- triggers copy them into FTS5 tables in the same transaction as the write. An FTS5 row is
-- keyed by an integer that never changes (the *_docs tables): a plain rowid may be
-- renumbered by VACUUM.

create table challenges (
    id              blob primary key not null,
    author_id       blob references people (id) on delete set null,          -- null: a former member
    organisation_id blob references organisations (id) on delete set null,   -- on whose behalf
    title           text not null,
    sector          text,
    size_band       text check (size_band in ('micro', 'small', 'medium', 'large')),
    target_groups   text not null default '[]',
    themes          text not null default '[]',
    status          text not null check (status in ('open', 'addressed', 'closed')),
    created_at      text not null,
    updated_at      text not null,
    version         integer not null default 1,
    description     text,
    search_title    text not null,
    search_summary  text not null,
    search_body     text not null
) strict;
create index challenges_created_at on challenges (created_at, id);
create index challenges_updated_at on challenges (updated_at, id);
create index challenges_title on challenges (title, id);
create index challenges_author on challenges (author_id);

create table challenge_docs (
    doc          integer primary key,
    challenge_id blob not null unique references challenges (id) on delete cascade
) strict;
create virtual table challenge_search using fts5 (
    title, summary, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
create trigger challenges_search_insert after insert on challenges begin
    insert into challenge_docs (challenge_id) values (new.id);
    insert into challenge_search (rowid, title, summary, body)
        values ((select doc from challenge_docs where challenge_id = new.id), new.search_title, new.search_summary, new.search_body);
end;
create trigger challenges_search_update after update of search_title, search_summary, search_body on challenges begin
    update challenge_search set title = new.search_title, summary = new.search_summary, body = new.search_body
        where rowid = (select doc from challenge_docs where challenge_id = new.id);
end;
create trigger challenges_search_delete before delete on challenges begin
    delete from challenge_search where rowid = (select doc from challenge_docs where challenge_id = old.id);
end;

-- The long texts come last: a row is read up to the columns a query needs, so lists and
-- checks that need no body never walk its overflow pages.
create table solutions (
    id              blob primary key not null,
    title           text not null,
    summary         text,
    event_id        blob references events (id) on delete set null,       -- where it was co-created
    sector          text,
    size_band       text check (size_band in ('micro', 'small', 'medium', 'large')),
    target_groups   text not null default '[]',
    themes          text not null default '[]',
    maturity        text not null check (maturity in ('idea', 'piloted', 'proven')),
    status          text not null check (status in ('draft', 'published')),
    published_at    text,
    created_at      text not null,
    updated_at      text not null,
    version         integer not null default 1,  -- the revision number
    results         text,
    body            text,
    search_title    text not null,
    search_summary  text not null,
    search_body     text not null
) strict;
create index solutions_created_at on solutions (created_at, id);
create index solutions_updated_at on solutions (updated_at, id);
create index solutions_title on solutions (title, id);
create index solutions_event on solutions (event_id) where event_id is not null;
-- Search joins every match to its solution for the published-or-mine check: this index
-- answers it without reading the (large) rows.
create index solutions_status on solutions (id, status);

create table solution_docs (
    doc         integer primary key,
    solution_id blob not null unique references solutions (id) on delete cascade
) strict;
create virtual table solution_search using fts5 (
    title, summary, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
create trigger solutions_search_insert after insert on solutions begin
    insert into solution_docs (solution_id) values (new.id);
    insert into solution_search (rowid, title, summary, body)
        values ((select doc from solution_docs where solution_id = new.id), new.search_title, new.search_summary, new.search_body);
end;
create trigger solutions_search_update after update of search_title, search_summary, search_body on solutions begin
    update solution_search set title = new.search_title, summary = new.search_summary, body = new.search_body
        where rowid = (select doc from solution_docs where solution_id = new.id);
end;
create trigger solutions_search_delete before delete on solutions begin
    delete from solution_search where rowid = (select doc from solution_docs where solution_id = old.id);
end;

-- The challenges a solution answers, in the order given.
create table solution_challenges (
    solution_id  blob not null references solutions (id) on delete cascade,
    challenge_id blob not null references challenges (id) on delete cascade,
    position     integer not null,
    primary key (solution_id, challenge_id)
) strict;
create index solution_challenges_challenge on solution_challenges (challenge_id, solution_id);

-- Co-authors, and the organisation each acts for. A former member's row stays (person null).
create table solution_authors (
    id              blob primary key not null,
    solution_id     blob not null references solutions (id) on delete cascade,
    person_id       blob references people (id) on delete set null,
    organisation_id blob references organisations (id) on delete set null,
    added_at        text not null
) strict;
create unique index solution_authors_person on solution_authors (solution_id, person_id);
create index solution_authors_of_person on solution_authors (person_id, solution_id);
create index solution_authors_organisation on solution_authors (organisation_id, solution_id);

-- Every revision of a solution: its content as of that revision, and who made it.
create table solution_revisions (
    solution_id blob not null references solutions (id) on delete cascade,
    number      integer not null,
    author_id   blob references people (id) on delete set null,
    change      text not null check (change in ('created', 'edited', 'published', 'co_author_added', 'co_author_removed')),
    content     text not null,   -- JSON
    created_at  text not null,
    primary key (solution_id, number)
) strict;
create index solution_revisions_author on solution_revisions (author_id);

create table endorsements (
    id              blob primary key not null,
    solution_id     blob not null references solutions (id) on delete cascade,
    person_id       blob not null references people (id) on delete cascade,
    organisation_id blob references organisations (id) on delete set null,
    note            text,
    created_at      text not null,
    updated_at      text not null,
    version         integer not null default 1
) strict;
create unique index endorsements_person on endorsements (solution_id, person_id);
create index endorsements_solution on endorsements (solution_id, created_at, id);
create index endorsements_of_person on endorsements (person_id);

create table comments (
    id           blob primary key not null,
    challenge_id blob references challenges (id) on delete cascade,
    solution_id  blob references solutions (id) on delete cascade,
    parent_id    blob references comments (id) on delete cascade,   -- replies are one level deep
    author_id    blob references people (id) on delete set null,
    body         text not null,
    hidden       integer not null default 0,                        -- hidden by a facilitator
    hidden_by    blob references people (id) on delete set null,
    created_at   text not null,
    updated_at   text not null,
    version      integer not null default 1,
    check ((challenge_id is null) <> (solution_id is null))
) strict;
create index comments_challenge on comments (challenge_id, created_at, id) where challenge_id is not null;
create index comments_solution on comments (solution_id, created_at, id) where solution_id is not null;
create index comments_parent on comments (parent_id) where parent_id is not null;
create index comments_author on comments (author_id);

-- A learning record may say which solution its owner applied.
alter table learning_records add column solution_id blob references solutions (id) on delete set null;
create index learning_records_solution on learning_records (solution_id) where solution_id is not null;
