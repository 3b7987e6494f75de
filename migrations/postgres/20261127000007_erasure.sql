-- Erasure leaves no trace: the kept references of deleted synced records name their person
-- (they go when the person is erased).

alter table deleted_record_refs add column person_id uuid;
create index deleted_record_refs_person on deleted_record_refs (person_id);
