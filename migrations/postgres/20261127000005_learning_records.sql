-- The informal-learning log: records a person owns and shares by choice.

create table learning_records (
    id               uuid primary key,
    person_id        uuid not null references people (id) on delete cascade,
    title            text not null,
    description      text,                               -- what happened
    learned          text,                               -- reflection: what I learned
    will_do_differently text,                            -- reflection: what I will do differently
    activity_type    text not null check (activity_type in ('on_the_job', 'peer_learning', 'coaching_mentoring', 'intervision', 'job_rotation', 'self_study', 'reading', 'online_course', 'event', 'volunteering', 'other')),
    context          text not null check (context in ('experiential', 'social', 'formal')),
    context_chosen   boolean not null,                   -- 0: defaulted from the activity type
    started_on       date not null,
    ended_on         date,
    duration_minutes bigint,
    skills           text not null default '[]',         -- JSON array of {label, esco_uri}
    themes           text not null default '[]',         -- JSON array of theme slugs
    evidence         text not null default '[]',         -- JSON array of http(s) URLs
    event_id         uuid references events (id) on delete set null,
    commitment_id    uuid references commitments (id) on delete set null,
    source           text not null,                      -- manual, import, or the syncing system's name
    visibility       text not null check (visibility in ('private', 'organisation', 'network')),
    shared_with      text not null default '[]',         -- JSON array of organisation ids
    -- The (organisation, system, external id) an HR system upserts the record by.
    ref_scope        uuid,
    ref_system       text,
    ref_external_id  text,
    created_at       timestamptz not null,
    updated_at       timestamptz not null,
    version          bigint not null default 1
);
-- Covers a person's summary (an index-only scan for a thousand records).
create index learning_records_person on learning_records (person_id, started_on) include (activity_type, context, duration_minutes);
create index learning_records_created on learning_records (created_at, id);
create unique index learning_records_ref on learning_records (ref_scope, ref_system, ref_external_id)
    where ref_scope is not null;

-- The organisations a record is shared with (visibility `organisation`), for the admins'
-- reads and summaries.
create table learning_record_shares (
    record_id       uuid not null references learning_records (id) on delete cascade,
    organisation_id uuid not null references organisations (id) on delete cascade,
    primary key (record_id, organisation_id)
);
create index learning_record_shares_organisation on learning_record_shares (organisation_id, record_id);

-- References of synced records their person deleted: a later sync does not bring them back.
create table deleted_record_refs (
    ref_scope       uuid not null,
    ref_system      text not null,
    ref_external_id text not null,
    deleted_at      timestamptz not null,
    primary key (ref_scope, ref_system, ref_external_id)
);
