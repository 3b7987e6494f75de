-- An employer's own view of the insights (decision 11): when a period's learning
-- participation is computed, each organisation's share of it is kept beside it, in the
-- same transaction, so that its admins see their own figures and their sector's from one
-- moment. Sums over groups only: no person, no record.

alter table insight_snapshots add column by_organisation integer not null default 0
    check (by_organisation in (0, 1));

create table insight_organisation_snapshots (
    metric          text not null,
    period          text not null,
    organisation_id blob not null,             -- no reference: kept figures outlive a removed organisation
    sector          text not null,             -- the NACE section (or `unknown`) when computed
    breakdown       text not null,             -- JSON: the organisation's finest groups and their sums
    primary key (metric, period, organisation_id)
) strict;

create index insight_organisation_snapshots_by_sector on insight_organisation_snapshots (metric, period, sector);
