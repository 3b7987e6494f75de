//! A small per-instance cache of rendered list pages whose content changes only through
//! writes that also record a change in the feed (every event change does, in the same
//! transaction). A page is keyed by its canonical query and valid for one feed position:
//! the last committed change and the purge horizon. Any committed write moves that position,
//! on any instance, so a cached page is never served after the data under it changed; a
//! page rendered after the position was read is at least as new as the position.
//! See `docs/decisions/0006-seats.md` (reads of busy events).

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::web::Bytes;

/// Most pages, and most bytes of pages, kept; when either would be passed, the cache starts
/// over (hot pages come back at once). Bounds the memory at a few MB per instance.
const CAPACITY: usize = 128;
const CAPACITY_BYTES: usize = 4 * 1024 * 1024;

/// The feed position a page was rendered at: `(last change, horizon)`.
pub type Position = (i64, i64);

/// A rendered page: its JSON body and its `next_cursor`.
#[derive(Clone)]
pub struct CachedPage {
    pub body: Bytes,
    pub next_cursor: Option<String>,
}

#[derive(Default)]
pub struct PageCache {
    pages: Mutex<Pages>,
}

#[derive(Default)]
struct Pages {
    by_key: HashMap<String, (Position, CachedPage)>,
    bytes: usize,
}

impl PageCache {
    /// The page for `key` if it was rendered at `position`.
    pub fn get(&self, key: &str, position: Position) -> Option<CachedPage> {
        let pages = self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pages.by_key.get(key).filter(|(at, _)| *at == position).map(|(_, page)| page.clone())
    }

    /// Keeps a page rendered after `position` was read.
    pub fn put(&self, key: String, position: Position, page: CachedPage) {
        let size = key.len() + page.body.len();
        if size > CAPACITY_BYTES {
            return;
        }
        let mut pages = self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, old)) = pages.by_key.remove(&key) {
            pages.bytes -= key.len() + old.body.len();
        }
        if pages.by_key.len() >= CAPACITY || pages.bytes + size > CAPACITY_BYTES {
            pages.by_key.clear();
            pages.bytes = 0;
        }
        pages.bytes += size;
        pages.by_key.insert(key, (position, page));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &'static str) -> CachedPage {
        CachedPage { body: Bytes::from_static(text.as_bytes()), next_cursor: None }
    }

    #[test]
    fn a_page_is_served_only_at_the_position_it_was_rendered_at() {
        let cache = PageCache::default();
        cache.put("events?a".into(), (7, 0), page("[1]"));
        assert_eq!(cache.get("events?a", (7, 0)).unwrap().body, "[1]");
        assert!(cache.get("events?a", (8, 0)).is_none(), "a later change");
        assert!(cache.get("events?a", (7, 3)).is_none(), "a purge");
        assert!(cache.get("events?b", (7, 0)).is_none(), "another query");
    }

    #[test]
    fn the_cache_holds_at_most_a_few_megabytes() {
        let cache = PageCache::default();
        let big = CachedPage { body: Bytes::from(vec![b'x'; CAPACITY_BYTES / 3]), next_cursor: None };
        for i in 0..3 {
            cache.put(format!("q{i}"), (1, 0), big.clone());
        }
        assert!(cache.get("q0", (1, 0)).is_none(), "the third page did not fit beside two");
        assert!(cache.get("q2", (1, 0)).is_some());
        let pages = cache.pages.lock().unwrap();
        assert!(pages.bytes <= CAPACITY_BYTES);
        assert_eq!(pages.bytes, pages.by_key.iter().map(|(k, (_, p))| k.len() + p.body.len()).sum::<usize>());
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = PageCache::default();
        for i in 0..CAPACITY {
            cache.put(format!("q{i}"), (1, 0), page("x"));
        }
        cache.put("new".into(), (1, 0), page("y"));
        assert!(cache.get("q0", (1, 0)).is_none());
        assert!(cache.get("new", (1, 0)).is_some());
    }
}
