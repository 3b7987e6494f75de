-- A sign-in session: the family of refresh tokens rotated from one password sign-in.
-- Rotation and revocation lock this row, so a revoked session can never gain a successor.
create table refresh_families (
    id         blob primary key not null,
    person_id  blob not null references people (id) on delete cascade,
    created_at text not null,
    revoked_at text
) strict;
create index refresh_families_person on refresh_families (person_id);

insert into refresh_families (id, person_id, created_at, revoked_at)
select family_id, min(person_id), min(created_at), max(revoked_at) from refresh_tokens group by family_id;

-- The request that holds an Idempotency-Key: only it may complete or abandon the claim.
alter table idempotency_keys add column claim blob;
