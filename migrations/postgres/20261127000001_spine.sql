-- The spine: accounts, tokens, idempotency keys and themes.
-- Ids are UUIDv7 and timestamps UTC, both made in Rust. Sortable text uses the "C"
-- collation so that order and keyset comparisons match SQLite's byte order.

create table people (
    id            uuid primary key,
    email         text not null,
    email_key     text not null unique,
    display_name  text not null,
    role          text not null check (role in ('facilitator', 'member', 'policy_reader')),
    password_hash text,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    version       bigint not null default 1
);

create table api_clients (
    id              uuid primary key,
    name            text not null,
    organisation_id uuid,
    secret_hash     text not null,
    scopes          text not null,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    revoked_at      timestamptz,
    version         bigint not null default 1
);

create table refresh_tokens (
    id          uuid primary key,
    token_hash  bytea not null unique,
    family_id   uuid not null,
    person_id   uuid not null references people (id) on delete cascade,
    created_at  timestamptz not null,
    expires_at  timestamptz not null,
    used_at     timestamptz,
    revoked_at  timestamptz
);
create index refresh_tokens_family on refresh_tokens (family_id);
create index refresh_tokens_expiry on refresh_tokens (expires_at);

create table idempotency_keys (
    owner            text not null,
    key              text not null,
    request_hash     bytea not null,
    response_status  integer,
    response_headers text,
    response_body    bytea,
    created_at       timestamptz not null,
    locked_until     timestamptz not null,
    expires_at       timestamptz not null,
    primary key (owner, key)
);
create index idempotency_keys_expiry on idempotency_keys (expires_at);

create table themes (
    id          uuid primary key,
    slug        text collate "C" not null unique,
    label_nl    text collate "C" not null,
    label_en    text collate "C" not null,
    description text,
    search_text text not null,
    created_at  timestamptz not null,
    updated_at  timestamptz not null,
    version     bigint not null default 1
);
create index themes_label_nl on themes (label_nl, id);
create index themes_label_en on themes (label_en, id);
create index themes_created_at on themes (created_at, id);
create index themes_updated_at on themes (updated_at, id);
