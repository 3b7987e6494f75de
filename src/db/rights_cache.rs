//! Callers' rights as recently read, kept for at most [`TTL`] so that every authenticated
//! request does not cost a query: a person's network role and the organisations they
//! administer, an integration client's organisation, scopes and revocation. A write on
//! this instance that can change someone's rights (a role, a membership, an erasure, a
//! client revoked, a SCIM token replaced) empties the cache when it is done
//! ([`RightsCache::changing`]); another instance's cache follows within `TTL`. SCIM tokens
//! found are kept the same way, by their SHA-256: the client and organisation they stand for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use uuid::Uuid;

use crate::auth::rights::{PersonRole, Scope};

/// How long an entry is trusted.
pub const TTL: Duration = Duration::from_secs(1);
/// Entries kept at most; beyond that the cache starts empty again.
const MAX_ENTRIES: usize = 10_000;

/// A person's rights: `None` when the person does not exist.
pub type Rights = Option<(PersonRole, Vec<Uuid>)>;

/// What an integration client may do now: `None` when it does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGrant {
    pub organisation_id: Option<Uuid>,
    pub scopes: Vec<Scope>,
    pub revoked: bool,
}

/// One caller's rights as read.
#[derive(Debug, Clone)]
pub enum Entry {
    Person(Rights),
    Client(Option<ClientGrant>),
}

#[derive(Default)]
struct Inner {
    /// Moves on with every change, so that a read that raced a change is not kept.
    generation: u64,
    entries: HashMap<(Uuid, NaiveDate), (Instant, Entry)>,
    /// SCIM tokens found, by SHA-256: `(client, its organisation)`. Tokens not found are not
    /// kept (a new one works at once, and no one fills the cache with guesses).
    tokens: HashMap<[u8; 32], (Instant, ScimTokenOf)>,
}

/// The client a SCIM token stands for, and the client's organisation.
pub type ScimTokenOf = (Uuid, Option<Uuid>);

#[derive(Default, Clone)]
pub struct RightsCache(Arc<Mutex<Inner>>);

/// What a lookup found: the rights, or the generation to store a fresh read under.
pub enum Lookup<T = Entry> {
    Hit(T),
    Miss(u64),
}

impl RightsCache {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, caller: Uuid, today: NaiveDate) -> Lookup {
        let inner = self.inner();
        match inner.entries.get(&(caller, today)) {
            Some((at, rights)) if at.elapsed() < TTL => Lookup::Hit(rights.clone()),
            _ => Lookup::Miss(inner.generation),
        }
    }

    /// The generation to store a fresh read under (for a lookup that found another kind of
    /// caller under the id: ids are never shared, so only ever in theory).
    pub fn generation(&self) -> u64 {
        self.inner().generation
    }

    /// Keeps a read made at `generation`, unless rights changed since.
    pub fn put(&self, caller: Uuid, today: NaiveDate, generation: u64, rights: Entry) {
        let mut inner = self.inner();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert((caller, today), (Instant::now(), rights));
    }

    /// The client a SCIM token (its SHA-256) was found to stand for, within `TTL`.
    pub fn token(&self, hash: &[u8; 32]) -> Lookup<ScimTokenOf> {
        let inner = self.inner();
        match inner.tokens.get(hash) {
            Some((at, of)) if at.elapsed() < TTL => Lookup::Hit(*of),
            _ => Lookup::Miss(inner.generation),
        }
    }

    /// Keeps a token found at `generation`, unless rights changed since.
    pub fn put_token(&self, hash: [u8; 32], generation: u64, of: ScimTokenOf) {
        let mut inner = self.inner();
        if inner.generation != generation {
            return;
        }
        if inner.tokens.len() >= MAX_ENTRIES {
            inner.tokens.clear();
        }
        inner.tokens.insert(hash, (Instant::now(), of));
    }

    /// Held by a write that may change rights: when it is dropped (after the write's
    /// transaction ended, however it ended) the cache is emptied.
    pub fn changing(&self) -> Changing {
        Changing(self.clone())
    }
}

/// See [`RightsCache::changing`].
pub struct Changing(RightsCache);

impl Drop for Changing {
    fn drop(&mut self) {
        let mut inner = self.0.inner();
        inner.generation += 1;
        inner.entries.clear();
        inner.tokens.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
    }

    #[test]
    fn a_read_is_kept_until_a_change_and_a_read_that_raced_a_change_is_not() {
        let cache = RightsCache::default();
        let p = Uuid::now_v7();
        let Lookup::Miss(generation) = cache.get(p, today()) else { panic!("an empty cache has nothing") };
        cache.put(p, today(), generation, Entry::Person(Some((PersonRole::Facilitator, vec![]))));
        assert!(matches!(cache.get(p, today()), Lookup::Hit(Entry::Person(Some((PersonRole::Facilitator, _))))));
        // Another day is another question (memberships start and end by date).
        assert!(matches!(cache.get(p, today().succ_opt().unwrap()), Lookup::Miss(_)));
        drop(cache.changing());
        assert!(matches!(cache.get(p, today()), Lookup::Miss(_)), "a change empties it");
        // A read that started before the change is not kept after it.
        cache.put(p, today(), generation, Entry::Person(Some((PersonRole::Facilitator, vec![]))));
        assert!(matches!(cache.get(p, today()), Lookup::Miss(_)));
    }

    #[test]
    fn a_scim_token_found_is_kept_until_a_change() {
        let cache = RightsCache::default();
        let (hash, client, organisation) = ([7u8; 32], Uuid::now_v7(), Some(Uuid::now_v7()));
        let Lookup::Miss(generation) = cache.token(&hash) else { panic!("an empty cache has nothing") };
        cache.put_token(hash, generation, (client, organisation));
        assert!(matches!(cache.token(&hash), Lookup::Hit((c, o)) if c == client && o == organisation));
        assert!(matches!(cache.token(&[8u8; 32]), Lookup::Miss(_)), "another token is another question");
        drop(cache.changing());
        assert!(matches!(cache.token(&hash), Lookup::Miss(_)), "a change (a token replaced) empties it");
        cache.put_token(hash, generation, (client, organisation));
        assert!(matches!(cache.token(&hash), Lookup::Miss(_)), "a read that raced the change is not kept");
    }
}
