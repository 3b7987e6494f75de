-- Webhooks (decision 14): an organisation's subscriptions to its change feed, delivered
-- by POST with Standard Webhooks signatures, and the log of every delivery attempt.
--
-- A subscription reads the feed as the organisation's integration clients do, within the
-- read scopes it was given (`scopes`), from its own cursor: the last change it has
-- delivered or passed over. The instance that holds the lease (`lease_owner` until
-- `lease_until`) is the only one delivering it; a failed delivery waits until
-- `next_attempt_at`, and the subscription is disabled once it has failed for three days.
create table webhook_subscriptions (
    id                    uuid primary key,
    organisation_id       uuid not null references organisations (id) on delete cascade,
    url                   text not null,
    types                 text not null,         -- comma-separated resource types
    operations            text not null,         -- comma-separated: create, update, delete
    scopes                text not null,         -- the read scopes it delivers with
    description           text not null,
    enabled               boolean not null,
    disabled_reason       text,
    secret                text not null,         -- whsec_...
    previous_secret       text,                  -- still signed with until previous_until
    previous_until        timestamptz,
    cursor                bigint not null,       -- the last change seq delivered or passed over
    attempt               integer not null default 0,  -- failed attempts at the next change
    failing_since         timestamptz,
    next_attempt_at       timestamptz not null,
    lease_owner           uuid,
    lease_until           timestamptz,
    created_at            timestamptz not null,
    updated_at            timestamptz not null,
    version               bigint not null default 1
);
create index webhook_subscriptions_organisation on webhook_subscriptions (organisation_id, id);
create index webhook_subscriptions_due on webhook_subscriptions (next_attempt_at) where enabled;

-- Every attempt: which message (and which resource it was about), when, the answer's status (none on a timeout or refusal),
-- how long it took and the first bytes of the answer. Kept 30 days.
create table webhook_deliveries (
    id               bigserial primary key,
    subscription_id  uuid not null references webhook_subscriptions (id) on delete cascade,
    message_id       text not null,
    event_type       text not null,
    seq              bigint,                     -- the change; null for a test event
    resource_id      uuid,                        -- the change's resource (erasure removes its attempts)
    attempt          integer not null,
    status           integer,
    error            text,
    latency_ms       bigint not null,
    response_excerpt text,
    delivered_at     timestamptz not null
);
create index webhook_deliveries_subscription on webhook_deliveries (subscription_id, id);
create index webhook_deliveries_age on webhook_deliveries (delivered_at);
create index webhook_deliveries_resource on webhook_deliveries (resource_id);
