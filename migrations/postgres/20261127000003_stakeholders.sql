-- Stakeholders: organisations, people's profiles, memberships, external references,
-- and the change feed.

create table organisations (
    id                uuid primary key,
    name              text collate "C" not null,
    kind              text not null check (kind in ('policy_body', 'employer', 'social_partner', 'sector_fund', 'learning_provider', 'network_partner')),
    enterprise_number text unique,
    sector            text,
    size_band         text check (size_band in ('micro', 'small', 'medium', 'large')),
    region            text check (region in ('antwerp', 'east_flanders', 'flemish_brabant', 'limburg', 'west_flanders', 'brussels')),
    website           text,
    themes            text not null default '[]',
    search_text       text not null,
    created_at        timestamptz not null,
    updated_at        timestamptz not null,
    version           bigint not null default 1
);
create index organisations_name on organisations (name, id);
create index organisations_created_at on organisations (created_at, id);
create index organisations_updated_at on organisations (updated_at, id);
create index organisations_kind on organisations (kind);

alter table people add column stakeholder_group text not null default 'other'
    check (stakeholder_group in ('employee', 'employer_representative', 'hr_professional', 'policy_maker', 'facilitator', 'other'));
alter table people add column birth_year integer;
alter table people add column age_band text
    check (age_band in ('under_25', '25_34', '35_44', '45_54', '55_64', '65_plus'));
alter table people add column languages text not null default '[]';
alter table people add column search_text text not null default '';
alter table people alter column display_name type text collate "C";
create index people_display_name on people (display_name, id);
create index people_created_at on people (created_at, id);
create index people_updated_at on people (updated_at, id);

create table memberships (
    id              uuid primary key,
    person_id       uuid not null references people (id) on delete cascade,
    organisation_id uuid not null references organisations (id),
    role            text not null check (role in ('employee', 'manager', 'hr', 'org_admin')),
    starts_on       date not null,
    ends_on         date,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    version         bigint not null default 1
);
create index memberships_person on memberships (person_id, organisation_id);
create index memberships_organisation on memberships (organisation_id, person_id);

create table external_refs (
    scope_id      uuid not null,
    system        text not null,
    resource_type text not null check (resource_type in ('organisation', 'person', 'membership')),
    external_id   text not null,
    resource_id   uuid not null,
    primary key (scope_id, system, resource_type, external_id),
    unique (scope_id, system, resource_type, resource_id)
);
create index external_refs_resource on external_refs (resource_id);

-- The change feed. seq is taken under an advisory lock held until commit, so seq order is
-- commit order across every instance (see docs/decisions/0005-change-feed.md).
create table changes (
    seq           bigint generated always as identity primary key,
    resource_type text not null,
    resource_id   uuid not null,
    version       bigint not null,
    operation     text not null check (operation in ('create', 'update', 'delete')),
    body          text,
    public        boolean not null,
    changed_at    timestamptz not null
);
create index changes_resource on changes (resource_id, seq);
create index changes_changed_at on changes (changed_at);

create table change_audience (
    audience_id uuid not null,
    seq         bigint not null references changes (seq) on delete cascade,
    primary key (audience_id, seq)
);
create index change_audience_seq on change_audience (seq);

create table feed_horizon (
    id  integer primary key check (id = 1),
    seq bigint not null
);
insert into feed_horizon (id, seq) values (1, 0);
