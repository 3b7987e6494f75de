-- Learning events, their organisers, registrations (with a waitlist that never overbooks)
-- and the commitments participants make. See docs/decisions/0006-seats.md.

create table events (
    id                     uuid primary key,
    organiser_id           uuid not null references organisations (id),
    title                  text collate "C" not null,
    summary                text,
    description            text,
    format                 text not null check (format in ('inspiration_session', 'workshop', 'learning_network', 'webinar', 'conference', 'intervision', 'field_visit', 'other')),
    attendance_mode        text not null check (attendance_mode in ('in_person', 'online', 'hybrid')),
    starts_at              timestamptz not null,
    ends_at                timestamptz not null,
    time_zone              text not null,
    venue                  text,                        -- JSON object {name, address, postcode, city}
    online_url             text,
    capacity               bigint,                     -- null: unlimited
    registration_opens_at  timestamptz,
    registration_closes_at timestamptz,
    co_organisers          text not null default '[]',  -- JSON array of organisation ids
    themes                 text not null default '[]',  -- JSON array of theme slugs
    stakeholder_groups     text not null default '[]',  -- JSON array
    language               text not null,
    status                 text not null check (status in ('draft', 'published', 'cancelled', 'completed')),
    search_text            text not null,
    -- Seat state, changed only under the event row's write lock (see the decision record).
    seats_taken            bigint not null default 0,
    waitlist_length        bigint not null default 0,
    arrivals               bigint not null default 0,  -- registrations ever made: the next arrival number
    created_at             timestamptz not null,
    updated_at             timestamptz not null,
    version                bigint not null default 1
);
create index events_starts_at on events (starts_at, id);
create index events_status_starts_at on events (status, starts_at, id);
create index events_created_at on events (created_at, id);
create index events_updated_at on events (updated_at, id);
create index events_organiser on events (organiser_id);

-- Every organisation that runs an event: the organiser and its co-organisers.
create table event_organisers (
    event_id        uuid not null references events (id) on delete cascade,
    organisation_id uuid not null references organisations (id),
    primary key (event_id, organisation_id)
);
create index event_organisers_organisation on event_organisers (organisation_id, event_id);

create table registrations (
    id              uuid primary key,
    event_id        uuid not null references events (id) on delete cascade,
    person_id       uuid not null references people (id) on delete cascade,
    status          text not null check (status in ('confirmed', 'waitlisted', 'cancelled', 'attended', 'no_show')),
    arrival         bigint not null,                -- order of arrival at the event's seat lock
    organisation_id uuid references organisations (id) on delete set null,  -- who registered the person, when not themself
    checked_in_at   timestamptz,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    version         bigint not null default 1
);
-- One active registration per person per event.
create unique index registrations_active on registrations (event_id, person_id) where status <> 'cancelled';
create index registrations_event on registrations (event_id, status, arrival);
create index registrations_person on registrations (person_id, created_at);

create table commitments (
    id                      uuid primary key,
    event_id                uuid not null references events (id) on delete cascade,
    person_id               uuid not null references people (id) on delete cascade,
    text                    text not null,
    due_on                  date,
    status                  text not null check (status in ('planned', 'in_progress', 'done', 'dropped')),
    theme                   text,
    shared_with_organiser   boolean not null default false,
    shared_with_organisation uuid references organisations (id) on delete set null,
    learning_record_id      uuid,
    created_at              timestamptz not null,
    updated_at              timestamptz not null,
    version                 bigint not null default 1
);
create index commitments_event on commitments (event_id, person_id);
create index commitments_person on commitments (person_id, created_at, id);
