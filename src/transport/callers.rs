//! What this process last read of each caller's account: a guess, never an
//! answer.
//!
//! A request whose caller is known here runs at once as that caller, its
//! reads guarded by "the account is still that caller"
//! (`entities/guard.rs`); its answer leaves only if this request proved the
//! guess right (`http.rs`). A deactivation, role change or revocation therefore
//! still applies to the very next request, on every process: the guess is
//! only what saves a round trip when nothing changed.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use crate::domain::Actor;

/// At most this many callers are remembered; past it, the list starts over
/// (a guess missing costs one round trip, nothing else).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct KnownCallers {
    actors: Mutex<HashMap<Uuid, Actor>>,
}

impl KnownCallers {
    /// The caller last read for `user_id`, if its token is of the same
    /// session epoch.
    pub fn guess(&self, user_id: Uuid, session_epoch: i64) -> Option<Actor> {
        let actors = self.actors.lock().expect("known callers");
        actors.get(&user_id).filter(|actor| actor.session_epoch == session_epoch).cloned()
    }

    /// What a request just read of `user_id`'s account: the caller, or
    /// nothing (inactive, revoked, gone).
    pub fn read(&self, user_id: Uuid, actor: Option<&Actor>) {
        let mut actors = self.actors.lock().expect("known callers");
        match actor {
            Some(actor) => {
                if actors.get(&user_id) == Some(actor) {
                    return;
                }
                if actors.len() >= CAPACITY {
                    actors.clear();
                }
                actors.insert(user_id, actor.clone());
            }
            None => {
                actors.remove(&user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::enums::Role;

    fn actor(role: Role, epoch: i64) -> Actor {
        Actor { user_id: Uuid::from_u128(7), role, technician_id: None, session_epoch: epoch }
    }

    #[test]
    fn a_guess_is_the_last_account_read_for_the_same_session() {
        let known = KnownCallers::default();
        let id = Uuid::from_u128(7);
        assert_eq!(known.guess(id, 0), None);
        known.read(id, Some(&actor(Role::Admin, 0)));
        assert_eq!(known.guess(id, 0), Some(actor(Role::Admin, 0)));
        assert_eq!(known.guess(id, 1), None, "a token of another session epoch");
        known.read(id, Some(&actor(Role::Dispatcher, 0)));
        assert_eq!(known.guess(id, 0), Some(actor(Role::Dispatcher, 0)));
        known.read(id, None);
        assert_eq!(known.guess(id, 0), None, "forgotten once the account no longer authenticates");
    }

    #[test]
    fn the_list_starts_over_when_full() {
        let known = KnownCallers::default();
        for n in 0..CAPACITY as u128 + 1 {
            let id = Uuid::from_u128(n);
            known.read(id, Some(&Actor { user_id: id, role: Role::Admin, technician_id: None, session_epoch: 0 }));
        }
        assert_eq!(known.actors.lock().expect("known callers").len(), 1);
    }
}
