-- Insights for policy (decision 11): a person may opt out of being counted, and the
-- figures of a closed period are computed once and kept, so that asking again after
-- someone joined, left, opted out or was erased never tells the difference that one
-- person makes. A snapshot holds sums over groups only: no person, no record.

alter table people add column counted_in_insights boolean not null default true;

create table insight_snapshots (
    metric      text not null,
    period      text not null,                 -- `2026-Q3` or `2026`
    breakdown   text not null,                 -- JSON: the finest groups and their sums
    k           bigint not null,              -- the smallest group shown, as set when computed
    computed_at timestamptz not null,
    primary key (metric, period)
);
