-- Learning events, their organisers, registrations (with a waitlist that never overbooks)
-- and the commitments participants make. See docs/decisions/0006-seats.md.

create table events (
    id                     blob primary key not null,
    organiser_id           blob not null references organisations (id),
    title                  text not null,
    summary                text,
    description            text,
    format                 text not null check (format in ('inspiration_session', 'workshop', 'learning_network', 'webinar', 'conference', 'intervision', 'field_visit', 'other')),
    attendance_mode        text not null check (attendance_mode in ('in_person', 'online', 'hybrid')),
    starts_at              text not null,
    ends_at                text not null,
    time_zone              text not null,
    venue                  text,                        -- JSON object {name, address, postcode, city}
    online_url             text,
    capacity               integer,                     -- null: unlimited
    registration_opens_at  text,
    registration_closes_at text,
    co_organisers          text not null default '[]',  -- JSON array of organisation ids
    themes                 text not null default '[]',  -- JSON array of theme slugs
    stakeholder_groups     text not null default '[]',  -- JSON array
    language               text not null,
    status                 text not null check (status in ('draft', 'published', 'cancelled', 'completed')),
    search_text            text not null,
    -- Seat state, changed only under the event row's write lock (see the decision record).
    seats_taken            integer not null default 0,
    waitlist_length        integer not null default 0,
    arrivals               integer not null default 0,  -- registrations ever made: the next arrival number
    created_at             text not null,
    updated_at             text not null,
    version                integer not null default 1
) strict;
create index events_starts_at on events (starts_at, id);
create index events_status_starts_at on events (status, starts_at, id);
create index events_created_at on events (created_at, id);
create index events_updated_at on events (updated_at, id);
create index events_organiser on events (organiser_id);

-- Every organisation that runs an event: the organiser and its co-organisers.
create table event_organisers (
    event_id        blob not null references events (id) on delete cascade,
    organisation_id blob not null references organisations (id),
    primary key (event_id, organisation_id)
) strict;
create index event_organisers_organisation on event_organisers (organisation_id, event_id);

create table registrations (
    id              blob primary key not null,
    event_id        blob not null references events (id) on delete cascade,
    person_id       blob not null references people (id) on delete cascade,
    status          text not null check (status in ('confirmed', 'waitlisted', 'cancelled', 'attended', 'no_show')),
    arrival         integer not null,                -- order of arrival at the event's seat lock
    organisation_id blob references organisations (id) on delete set null,  -- who registered the person, when not themself
    checked_in_at   text,
    created_at      text not null,
    updated_at      text not null,
    version         integer not null default 1
) strict;
-- One active registration per person per event.
create unique index registrations_active on registrations (event_id, person_id) where status <> 'cancelled';
create index registrations_event on registrations (event_id, status, arrival);
create index registrations_person on registrations (person_id, created_at);

create table commitments (
    id                      blob primary key not null,
    event_id                blob not null references events (id) on delete cascade,
    person_id               blob not null references people (id) on delete cascade,
    text                    text not null,
    due_on                  text,
    status                  text not null check (status in ('planned', 'in_progress', 'done', 'dropped')),
    theme                   text,
    shared_with_organiser   integer not null default 0,
    shared_with_organisation blob references organisations (id) on delete set null,
    learning_record_id      blob,
    created_at              text not null,
    updated_at              text not null,
    version                 integer not null default 1
) strict;
create index commitments_event on commitments (event_id, person_id);
create index commitments_person on commitments (person_id, created_at, id);
