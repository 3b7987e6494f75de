-- Stakeholders: organisations, people's profiles, memberships, external references,
-- and the change feed.

create table organisations (
    id                blob primary key not null,
    name              text not null,
    kind              text not null check (kind in ('policy_body', 'employer', 'social_partner', 'sector_fund', 'learning_provider', 'network_partner')),
    enterprise_number text unique,
    sector            text,
    size_band         text check (size_band in ('micro', 'small', 'medium', 'large')),
    region            text check (region in ('antwerp', 'east_flanders', 'flemish_brabant', 'limburg', 'west_flanders', 'brussels')),
    website           text,
    themes            text not null default '[]',      -- JSON array of theme slugs
    search_text       text not null,
    created_at        text not null,
    updated_at        text not null,
    version           integer not null default 1
) strict;
create index organisations_name on organisations (name, id);
create index organisations_created_at on organisations (created_at, id);
create index organisations_updated_at on organisations (updated_at, id);
create index organisations_kind on organisations (kind);

alter table people add column stakeholder_group text not null default 'other'
    check (stakeholder_group in ('employee', 'employer_representative', 'hr_professional', 'policy_maker', 'facilitator', 'other'));
alter table people add column birth_year integer;
alter table people add column age_band text
    check (age_band in ('under_25', '25_34', '35_44', '45_54', '55_64', '65_plus'));
alter table people add column languages text not null default '[]';   -- JSON array of ISO 639-1 codes
alter table people add column search_text text not null default '';
create index people_display_name on people (display_name, id);
create index people_created_at on people (created_at, id);
create index people_updated_at on people (updated_at, id);

create table memberships (
    id              blob primary key not null,
    person_id       blob not null references people (id) on delete cascade,
    organisation_id blob not null references organisations (id),
    role            text not null check (role in ('employee', 'manager', 'hr', 'org_admin')),
    starts_on       text not null,
    ends_on         text,
    created_at      text not null,
    updated_at      text not null,
    version         integer not null default 1
) strict;
create index memberships_person on memberships (person_id, organisation_id);
create index memberships_organisation on memberships (organisation_id, person_id);

-- (system, external_id) pairs an organisation's systems (scope) use for our resources;
-- organisations themselves are referenced in the network scope (the nil UUID).
create table external_refs (
    scope_id      blob not null,
    system        text not null,
    resource_type text not null check (resource_type in ('organisation', 'person', 'membership')),
    external_id   text not null,
    resource_id   blob not null,
    primary key (scope_id, system, resource_type, external_id),
    unique (scope_id, system, resource_type, resource_id)
) strict;
create index external_refs_resource on external_refs (resource_id);

-- The change feed: one row per committed change, in commit order (seq).
create table changes (
    seq           integer primary key autoincrement,
    resource_type text not null,
    resource_id   blob not null,
    version       integer not null,
    operation     text not null check (operation in ('create', 'update', 'delete')),
    body          text,                                 -- the resource at this version; null for deletes
    public        integer not null,                     -- 1: every signed-in caller may see it
    changed_at    text not null
) strict;
create index changes_resource on changes (resource_id, seq);
create index changes_changed_at on changes (changed_at);

-- Who, besides facilitators, may see a non-public change: organisations (their admins and
-- integration clients) and people (the person it is about).
create table change_audience (
    audience_id blob not null,
    seq         integer not null references changes (seq) on delete cascade,
    primary key (audience_id, seq)
) strict;
create index change_audience_seq on change_audience (seq);

-- How far history has been purged: cursors before this position get 410.
create table feed_horizon (
    id  integer primary key check (id = 1),
    seq integer not null
) strict;
insert into feed_horizon (id, seq) values (1, 0);
