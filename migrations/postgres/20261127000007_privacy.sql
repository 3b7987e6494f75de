-- Privacy (decision 9). Erasure leaves no trace: the kept references of deleted synced records name their person
-- (they go when the person is erased).

alter table deleted_record_refs add column person_id uuid;
create index deleted_record_refs_person on deleted_record_refs (person_id);

-- The feed holds one entry with content per resource, its latest (decision 9): drop the
-- entries that later versions and deletes superseded before this rule.
delete from changes
 where operation <> 'delete'
   and exists (select 1 from changes n
               where n.resource_id = changes.resource_id and n.seq > changes.seq
                 and (n.operation <> 'delete' or n.version > changes.version));

-- Repairs of data done once by the service at start, by name.
create table data_repairs (
    name    text primary key,
    done_at timestamptz not null
);
