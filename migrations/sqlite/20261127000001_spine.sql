-- The spine: accounts, tokens, idempotency keys and themes.
-- Ids are UUIDv7 (16-byte blobs), timestamps RFC 3339 text in UTC, both made in Rust.

create table people (
    id            blob primary key not null,
    email         text not null,
    email_key     text not null unique,           -- lowercase, for case-insensitive identity
    display_name  text not null,
    role          text not null check (role in ('facilitator', 'member', 'policy_reader')),
    password_hash text,                            -- argon2id PHC string; null: cannot sign in
    created_at    text not null,
    updated_at    text not null,
    version       integer not null default 1
) strict;

create table api_clients (
    id              blob primary key not null,     -- the OAuth client_id
    name            text not null,
    organisation_id blob,
    secret_hash     text not null,                 -- argon2id PHC string
    scopes          text not null,                 -- space-separated
    created_at      text not null,
    updated_at      text not null,
    revoked_at      text,
    version         integer not null default 1
) strict;

create table refresh_tokens (
    id          blob primary key not null,
    token_hash  blob not null unique,              -- SHA-256 of the opaque token
    family_id   blob not null,                     -- every rotation of one sign-in
    person_id   blob not null references people (id) on delete cascade,
    created_at  text not null,
    expires_at  text not null,
    used_at     text,
    revoked_at  text
) strict;
create index refresh_tokens_family on refresh_tokens (family_id);
create index refresh_tokens_expiry on refresh_tokens (expires_at);

create table idempotency_keys (
    owner            text not null,                -- person:<id>, client:<id> or anonymous
    key              text not null,
    request_hash     blob not null,
    response_status  integer,                      -- null while the first request runs
    response_headers text,                         -- JSON array of [name, value]
    response_body    blob,
    created_at       text not null,
    locked_until     text not null,
    expires_at       text not null,
    primary key (owner, key)
) strict;
create index idempotency_keys_expiry on idempotency_keys (expires_at);

create table themes (
    id          blob primary key not null,
    slug        text not null unique,
    label_nl    text not null,
    label_en    text not null,
    description text,
    search_text text not null,                     -- folded slug and labels, for ?q=
    created_at  text not null,
    updated_at  text not null,
    version     integer not null default 1
) strict;
create index themes_label_nl on themes (label_nl, id);
create index themes_label_en on themes (label_en, id);
create index themes_created_at on themes (created_at, id);
create index themes_updated_at on themes (updated_at, id);
