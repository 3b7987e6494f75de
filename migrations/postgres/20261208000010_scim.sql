-- SCIM 2.0 (decision 13): identity providers provision an organisation's people through
-- a second front door to the same people, memberships and external references.
--
-- A SCIM user is a person seen from one organisation: the row keeps what only that
-- organisation's identity provider says about them (its sign-in name, name parts, the
-- enterprise attributes). The person's name and e-mail address live on the person, the
-- `active` flag is their membership, `externalId` is an external reference of system
-- `scim`. The row goes when the person leaves the organisation or is erased.
create table scim_users (
    organisation_id uuid not null references organisations (id) on delete cascade,
    person_id       uuid not null references people (id) on delete cascade,
    user_name       text not null,
    user_name_key   text not null,               -- lowercase: unique ignoring case
    attributes      text not null,               -- JSON: name parts, language, enterprise attributes
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    version         bigint not null default 1,
    primary key (organisation_id, person_id),
    unique (organisation_id, user_name_key)
);
create index scim_users_person on scim_users (person_id);

-- An organisation's groups (teams, departments) and who is in them.
create table scim_groups (
    id              uuid primary key,
    organisation_id uuid not null references organisations (id) on delete cascade,
    display_name    text not null,
    display_key     text not null,               -- lowercase: unique ignoring case
    external_id     text,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    version         bigint not null default 1,
    unique (organisation_id, display_key)
);

create table scim_group_members (
    group_id        uuid not null references scim_groups (id) on delete cascade,
    organisation_id uuid not null,
    person_id       uuid not null,
    primary key (group_id, person_id),
    foreign key (organisation_id, person_id) references scim_users (organisation_id, person_id) on delete cascade
);
create index scim_group_members_person on scim_group_members (organisation_id, person_id);

-- A static bearer token for identity providers that take only one (Entra ID's "secret
-- token", Okta's "HTTP header"): SHA-256 of the token, on the integration client it
-- stands for.
alter table api_clients add column scim_token_hash bytea;
alter table api_clients add column scim_token_created_at timestamptz;
create unique index api_clients_scim_token on api_clients (scim_token_hash);
