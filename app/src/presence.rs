//! Who else is here: the people on the same page (a call room, a ticket) seen in the last few seconds, and
//! whether they are typing. Kept in memory: it is worth nothing after a few seconds, and each instance knows
//! its own visitors.

use serde::{Deserialize, Serialize};

/// Someone else present, and whether they are typing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user_id: i64,
    pub name: String,
    pub typing: bool,
}

#[cfg(feature = "ssr")]
pub use ssr::Places;

#[cfg(feature = "ssr")]
mod ssr {
    use super::Presence;
    use crate::accounts::User;
    use crate::db::Db;
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};

    /// A place: the database (test servers share a process) and the page's id.
    type Place = (String, i64);
    /// Everyone seen in one place: user id → (name, last seen, typing).
    type Seen = HashMap<i64, (String, i64, bool)>;

    /// One kind of place (call rooms, tickets), each with who was seen there.
    pub struct Places {
        /// Someone not heard from for this long has left.
        present_for_secs: i64,
        seen: LazyLock<Mutex<HashMap<Place, Seen>>>,
    }

    impl Places {
        pub const fn new(present_for_secs: i64) -> Self {
            Places { present_for_secs, seen: LazyLock::new(|| Mutex::new(HashMap::new())) }
        }

        /// Says "`user` is at place `id`" (and whether typing), or with `leaving` that they left; returns the
        /// others there, by user id.
        pub fn note(&self, db: &Db, id: i64, user: &User, typing: bool, leaving: bool, at: i64) -> Vec<Presence> {
            let Ok(mut all) = self.seen.lock() else { return Vec::new() };
            let fresh = |last: i64| at - last <= self.present_for_secs;
            // Forget places nobody has been to lately, so the map does not grow for ever.
            all.retain(|_, seen| seen.values().any(|(_, last, _)| fresh(*last)));
            let seen = all.entry((db.url().to_string(), id)).or_default();
            if leaving {
                seen.remove(&user.id);
            } else {
                seen.insert(user.id, (user.name.clone(), at, typing));
            }
            seen.retain(|_, (_, last, _)| fresh(*last));
            let mut others: Vec<Presence> = seen
                .iter()
                .filter(|(uid, _)| **uid != user.id)
                .map(|(uid, (name, _, typing))| Presence { user_id: *uid, name: name.clone(), typing: *typing })
                .collect();
            others.sort_by_key(|p| p.user_id);
            others
        }
    }
}
