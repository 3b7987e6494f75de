//! New ids: time-ordered UUIDv7, or ids planned in advance. The demo data plans the ids of
//! the objects the spec's examples name, so every documented example works against it.

use std::cell::RefCell;
use std::future::Future;

use uuid::Uuid;

/// The kinds of object whose id can be planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Organisation,
    Person,
    Membership,
    Event,
    Registration,
    Commitment,
    LearningRecord,
    Challenge,
    Solution,
    Comment,
    Client,
    Theme,
    Group,
    Webhook,
}

tokio::task_local! {
    static PLANNED: RefCell<Vec<(Kind, Uuid)>>;
}

/// The id of a new object of `kind`: the first one still planned for that kind by
/// [`planned`] around the running future, else a new UUIDv7.
pub fn new_id(kind: Kind) -> Uuid {
    PLANNED
        .try_with(|planned| {
            let mut planned = planned.borrow_mut();
            planned.iter().position(|(k, _)| *k == kind).map(|i| planned.remove(i).1)
        })
        .ok()
        .flatten()
        .unwrap_or_else(Uuid::now_v7)
}

/// Runs `fut` with `ids` planned: the objects it creates take them, in order, per kind.
/// An id not taken (the object existed already) is dropped.
pub async fn planned<F: Future>(ids: &[(Kind, Uuid)], fut: F) -> F::Output {
    PLANNED.scope(RefCell::new(ids.to_vec()), fut).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn planned_ids_are_taken_in_order_per_kind_then_new_ones() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let taken = planned(&[(Kind::Person, a), (Kind::Event, b), (Kind::Person, c)], async {
            [new_id(Kind::Event), new_id(Kind::Person), new_id(Kind::Person), new_id(Kind::Person)]
        })
        .await;
        assert_eq!(&taken[..3], &[b, a, c]);
        assert_eq!(taken[3].get_version_num(), 7, "nothing planned is left: a new UUIDv7");
        assert_eq!(new_id(Kind::Person).get_version_num(), 7, "outside `planned`: a new UUIDv7");
    }
}
