//! Who owns a lead the moment it is stored. The store decides it inside the insert (same
//! transaction on SQLite, same statement on Supabase), so no reader ever sees a new lead before its
//! owner, and a crash cannot leave it half-routed. [`Routing`] is the one input of that decision:
//! junk goes to nobody, a person's repeat to the person's owner (see [`super::people`]), anything
//! else takes the next turn. The rules are applied in `sqlite/people.rs` with `sqlite/route.rs`,
//! and by the triggers `leads_link` and `leads_route` on Supabase
//! (migrations/20261207160000_people.sql, 20261201100000_route_on_insert.sql).

use leadhook_shared::Assignment;

/// What the store needs to route a new lead: the team's assignment mode and its reps in turn order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routing<'a> {
    pub assignment: Assignment,
    pub reps: &'a [String],
    /// How far apart two submissions of one person may be to be linked
    /// (`LEADHOOK_DUPLICATE_WINDOW`); zero never links.
    pub repeat_window: chrono::Duration,
}

impl Routing<'static> {
    /// New leads stay unowned and unlinked (tools that store leads without a team).
    pub const UNOWNED: Routing<'static> = Routing {
        assignment: Assignment::Claim,
        reps: &[],
        repeat_window: chrono::Duration::zero(),
    };
}

impl<'a> Routing<'a> {
    /// The reps who take turns for a new lead, or `None` when new leads are not given out.
    pub fn turns(&self) -> Option<&'a [String]> {
        (self.assignment == Assignment::RoundRobin).then_some(self.reps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_round_robin_takes_turns() {
        let reps = vec!["alice".to_string()];
        let routing = |assignment| Routing {
            assignment,
            reps: &reps,
            repeat_window: chrono::Duration::days(30),
        };
        assert_eq!(routing(Assignment::RoundRobin).turns(), Some(&reps[..]));
        assert_eq!(routing(Assignment::Claim).turns(), None);
        assert_eq!(routing(Assignment::None).turns(), None);
        assert_eq!(Routing::UNOWNED.turns(), None);
    }
}
