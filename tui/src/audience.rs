//! Who hears about what: the rules that decide whether this dashboard's rep is told (a toast
//! and a desktop notification) about something that happened to the team's leads.

/// The rep at this dashboard, as `GET /api/reps/me` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer<'a> {
    pub name: &'a str,
    pub available: bool,
}

/// Something a rep may need to act on. `by` is the rep who caused it, when a rep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happening<'a> {
    /// A lead was stored; `owner` when it arrived assigned (round-robin).
    NewLead {
        owner: Option<&'a str>,
        by: Option<&'a str>,
    },
    /// A known lead was given to `owner`.
    Assigned { owner: &'a str, by: Option<&'a str> },
    /// A lead is still `New Lead` past a threshold.
    Escalation,
    /// A lead's next step fell due; `owner` is the lead's owner.
    Reminder { owner: Option<&'a str> },
    /// The person wrote back; `owner` is the lead's owner.
    Reply { owner: Option<&'a str> },
}

/// Whether `viewer` is told about `happening`. Without a viewer (a server without reps, or
/// before it answered) every new lead and escalation is news, as it was before owners existed.
pub fn tells(viewer: Option<Viewer>, happening: Happening) -> bool {
    let Some(viewer) = viewer else {
        return !matches!(happening, Happening::Assigned { .. });
    };
    match happening {
        Happening::NewLead { by: Some(by), .. } | Happening::Assigned { by: Some(by), .. }
            if by == viewer.name =>
        {
            false
        }
        Happening::NewLead {
            owner: Some(owner), ..
        }
        | Happening::Assigned { owner, .. }
        | Happening::Reminder { owner: Some(owner) }
        | Happening::Reply { owner: Some(owner) } => owner == viewer.name,
        Happening::NewLead { owner: None, .. }
        | Happening::Escalation
        | Happening::Reminder { owner: None }
        | Happening::Reply { owner: None } => viewer.available,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: Viewer = Viewer {
        name: "alice",
        available: true,
    };
    const ALICE_AWAY: Viewer = Viewer {
        name: "alice",
        available: false,
    };

    fn new_lead<'a>(owner: Option<&'a str>, by: Option<&'a str>) -> Happening<'a> {
        Happening::NewLead { owner, by }
    }

    #[test]
    fn an_unowned_new_lead_tells_every_available_rep() {
        assert!(tells(Some(ALICE), new_lead(None, None)));
        assert!(!tells(Some(ALICE_AWAY), new_lead(None, None)));
    }

    #[test]
    fn an_assigned_new_lead_tells_its_owner_only_even_when_away() {
        assert!(tells(Some(ALICE), new_lead(Some("alice"), None)));
        assert!(tells(Some(ALICE_AWAY), new_lead(Some("alice"), None)));
        assert!(!tells(Some(ALICE), new_lead(Some("bob"), None)));
    }

    #[test]
    fn escalations_tell_every_available_rep() {
        assert!(tells(Some(ALICE), Happening::Escalation));
        assert!(!tells(Some(ALICE_AWAY), Happening::Escalation));
    }

    #[test]
    fn a_rep_is_never_told_of_their_own_change() {
        assert!(!tells(Some(ALICE), new_lead(None, Some("alice"))));
        assert!(!tells(Some(ALICE), new_lead(Some("alice"), Some("alice"))));
        let self_assigned = Happening::Assigned {
            owner: "alice",
            by: Some("alice"),
        };
        assert!(!tells(Some(ALICE), self_assigned));
        // Another rep's manual lead is still news.
        assert!(tells(Some(ALICE), new_lead(None, Some("bob"))));
    }

    #[test]
    fn a_reassignment_tells_the_new_owner() {
        let to_alice = Happening::Assigned {
            owner: "alice",
            by: Some("bob"),
        };
        assert!(tells(Some(ALICE), to_alice));
        assert!(tells(Some(ALICE_AWAY), to_alice));
        let to_bob = Happening::Assigned {
            owner: "bob",
            by: None,
        };
        assert!(!tells(Some(ALICE), to_bob));
    }

    #[test]
    fn a_reminder_tells_its_owner_even_when_away_and_no_one_else() {
        let alices = Happening::Reminder {
            owner: Some("alice"),
        };
        assert!(tells(Some(ALICE), alices));
        assert!(tells(Some(ALICE_AWAY), alices));
        let bobs = Happening::Reminder { owner: Some("bob") };
        assert!(!tells(Some(ALICE), bobs));
        assert!(!tells(Some(ALICE_AWAY), bobs));
    }

    #[test]
    fn an_unowned_leads_reminder_tells_the_available_reps() {
        let unowned = Happening::Reminder { owner: None };
        assert!(tells(Some(ALICE), unowned));
        assert!(!tells(Some(ALICE_AWAY), unowned));
        // Without reps every reminder is news, as escalations are.
        assert!(tells(None, unowned));
        assert!(tells(None, Happening::Reminder { owner: Some("bob") }));
    }

    #[test]
    fn without_reps_every_new_lead_and_escalation_is_news() {
        assert!(tells(None, new_lead(None, None)));
        assert!(tells(None, new_lead(Some("bob"), None)));
        assert!(tells(None, Happening::Escalation));
        let assigned = Happening::Assigned {
            owner: "bob",
            by: None,
        };
        assert!(!tells(None, assigned));
    }
}
