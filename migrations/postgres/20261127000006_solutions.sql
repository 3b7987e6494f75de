-- Shared solutions: challenges, co-authored solutions with revisions, endorsements and
-- comments, with full-text search. See docs/decisions/0008-shared-solutions.md.
--
-- The search_* columns hold the text folded by the service (lowercase, no diacritics); a
-- stored generated tsvector over them (configuration `simple`, weights A/B/C) is written by
-- the same statement as the content, and a GIN index serves the searches.

create table challenges (
    id              uuid primary key,
    author_id       uuid references people (id) on delete set null,          -- null: a former member
    organisation_id uuid references organisations (id) on delete set null,   -- on whose behalf
    title           text not null,
    description     text,
    sector          text,
    size_band       text check (size_band in ('micro', 'small', 'medium', 'large')),
    target_groups   text not null default '[]',
    themes          text not null default '[]',
    status          text not null check (status in ('open', 'addressed', 'closed')),
    search_title    text not null,
    search_summary  text not null,
    search_body     text not null,
    search          tsvector generated always as (
        setweight(to_tsvector('simple', search_title), 'A')
        || setweight(to_tsvector('simple', search_summary), 'B')
        || setweight(to_tsvector('simple', search_body), 'C')) stored,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    version         bigint not null default 1
);
create index challenges_created_at on challenges (created_at, id);
create index challenges_updated_at on challenges (updated_at, id);
create index challenges_title on challenges (title, id);
create index challenges_author on challenges (author_id);
create index challenges_search on challenges using gin (search);

create table solutions (
    id              uuid primary key,
    title           text not null,
    summary         text,
    body            text,
    event_id        uuid references events (id) on delete set null,       -- where it was co-created
    sector          text,
    size_band       text check (size_band in ('micro', 'small', 'medium', 'large')),
    target_groups   text not null default '[]',
    themes          text not null default '[]',
    maturity        text not null check (maturity in ('idea', 'piloted', 'proven')),
    results         text,
    status          text not null check (status in ('draft', 'published')),
    published_at    timestamptz,
    search_title    text not null,
    search_summary  text not null,
    search_body     text not null,
    search          tsvector generated always as (
        setweight(to_tsvector('simple', search_title), 'A')
        || setweight(to_tsvector('simple', search_summary), 'B')
        || setweight(to_tsvector('simple', search_body), 'C')) stored,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    version         bigint not null default 1   -- the revision number
);
create index solutions_created_at on solutions (created_at, id);
create index solutions_updated_at on solutions (updated_at, id);
create index solutions_title on solutions (title, id);
create index solutions_event on solutions (event_id) where event_id is not null;
create index solutions_search on solutions using gin (search);

-- The challenges a solution answers, in the order given.
create table solution_challenges (
    solution_id  uuid not null references solutions (id) on delete cascade,
    challenge_id uuid not null references challenges (id) on delete cascade,
    position     integer not null,
    primary key (solution_id, challenge_id)
);
create index solution_challenges_challenge on solution_challenges (challenge_id, solution_id);

-- Co-authors, and the organisation each acts for. A former member's row stays (person null).
create table solution_authors (
    id              uuid primary key,
    solution_id     uuid not null references solutions (id) on delete cascade,
    person_id       uuid references people (id) on delete set null,
    organisation_id uuid references organisations (id) on delete set null,
    added_at        timestamptz not null
);
create unique index solution_authors_person on solution_authors (solution_id, person_id);
create index solution_authors_of_person on solution_authors (person_id, solution_id);
create index solution_authors_organisation on solution_authors (organisation_id, solution_id);

-- Every revision of a solution: its content as of that revision, and who made it.
create table solution_revisions (
    solution_id uuid not null references solutions (id) on delete cascade,
    number      bigint not null,
    author_id   uuid references people (id) on delete set null,
    change      text not null check (change in ('created', 'edited', 'published', 'co_author_added', 'co_author_removed')),
    content     text not null,   -- JSON
    created_at  timestamptz not null,
    primary key (solution_id, number)
);
create index solution_revisions_author on solution_revisions (author_id);

create table endorsements (
    id              uuid primary key,
    solution_id     uuid not null references solutions (id) on delete cascade,
    person_id       uuid not null references people (id) on delete cascade,
    organisation_id uuid references organisations (id) on delete set null,
    note            text,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    version         bigint not null default 1
);
create unique index endorsements_person on endorsements (solution_id, person_id);
create index endorsements_solution on endorsements (solution_id, created_at, id);
create index endorsements_of_person on endorsements (person_id);

create table comments (
    id           uuid primary key,
    challenge_id uuid references challenges (id) on delete cascade,
    solution_id  uuid references solutions (id) on delete cascade,
    parent_id    uuid references comments (id) on delete cascade,   -- replies are one level deep
    author_id    uuid references people (id) on delete set null,
    body         text not null,
    hidden       boolean not null default false,                   -- hidden by a facilitator
    hidden_by    uuid references people (id) on delete set null,
    created_at   timestamptz not null,
    updated_at   timestamptz not null,
    version      bigint not null default 1,
    check ((challenge_id is null) <> (solution_id is null))
);
create index comments_challenge on comments (challenge_id, created_at, id) where challenge_id is not null;
create index comments_solution on comments (solution_id, created_at, id) where solution_id is not null;
create index comments_parent on comments (parent_id) where parent_id is not null;
create index comments_author on comments (author_id);

-- A learning record may say which solution its owner applied.
alter table learning_records add column solution_id uuid references solutions (id) on delete set null;
create index learning_records_solution on learning_records (solution_id) where solution_id is not null;
