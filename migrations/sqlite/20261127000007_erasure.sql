-- Erasure leaves no trace: the kept references of deleted synced records name their person
-- (they go when the person is erased), and the full-text indexes drop a deleted document's
-- words from their segments at once instead of at the next merge (FTS5 secure-delete).

alter table deleted_record_refs add column person_id blob;
create index deleted_record_refs_person on deleted_record_refs (person_id);

insert into challenge_search (challenge_search, rank) values ('secure-delete', 1);
insert into solution_search (solution_search, rank) values ('secure-delete', 1);
