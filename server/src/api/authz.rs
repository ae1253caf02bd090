//! Who may do what, decided here and nowhere else. The table itself is
//! [`leadhook_shared::access`] (the dashboard reads it too); this module applies it to requests:
//! actions of a whole route are declared in the router with [`needs`], and what depends on the
//! lead (whose it is, whether the caller may see it) is [`authorize`] and [`visible_lead`].
//! A refusal is 403 naming the role it needs; a lead the caller may not see is 404.

use axum::Extension;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use leadhook_shared::{Action, Lead, Visibility};

use super::Caller;
use crate::app::AppState;
use crate::error::AppError;

impl Caller {
    /// 403 unless the caller's role may do `action`.
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        if self.role.may(action) {
            Ok(())
        } else {
            Err(AppError::Forbidden {
                action,
                role: self.role,
            })
        }
    }

    /// Whether the caller may see `lead` at all.
    pub fn sees(&self, lead: &Lead, visibility: Visibility) -> bool {
        self.sees_owned_by(lead.owner.as_deref(), visibility)
    }

    pub fn sees_owned_by(&self, owner: Option<&str>, visibility: Visibility) -> bool {
        self.role.sees_all_leads(visibility) || owner.is_none_or(|owner| owner == self.name)
    }

    /// The rep whose leads (and unowned ones) a list is narrowed to, if it is narrowed.
    pub fn visible_to(&self, visibility: Visibility) -> Option<String> {
        (!self.role.sees_all_leads(visibility)).then(|| self.name.clone())
    }

    /// Whether `owner` is someone other than the caller.
    fn is_other(&self, owner: Option<&str>) -> bool {
        owner.is_some_and(|owner| owner != self.name)
    }
}

/// A route layer: only callers whose role may do `action` reach the handler.
pub fn needs(
    action: Action,
) -> impl Fn(Extension<Caller>, Request, Next) -> BoxedResponse + Clone + Send + Sync + 'static {
    move |Extension(caller): Extension<Caller>, request: Request, next: Next| {
        Box::pin(async move {
            caller.require(action)?;
            Ok(next.run(request).await)
        })
    }
}

type BoxedResponse =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, AppError>> + Send>>;

/// What a request does to one lead.
#[derive(Debug, Clone, Copy)]
pub enum LeadChange<'a> {
    /// Become its owner (the store refuses when someone else already is).
    Claim,
    /// Give it back to the queue.
    Release,
    /// Set its status and/or notes.
    Work,
    /// Give it to `Some(rep)` or to nobody.
    SetOwner(Option<&'a str>),
}

/// Whether the caller may make `change` to `lead` (which they can see).
pub fn authorize(caller: &Caller, lead: &Lead, change: LeadChange<'_>) -> Result<(), AppError> {
    let current = lead.owner.as_deref();
    let action = match change {
        LeadChange::Claim => Action::WorkOwnLead,
        LeadChange::Release if caller.is_other(current) => Action::Assign,
        LeadChange::Release => Action::WorkOwnLead,
        LeadChange::Work if caller.is_other(current) => Action::WorkOthersLead,
        LeadChange::Work => Action::WorkOwnLead,
        // Taking an unowned lead or letting go of one's own is claiming and releasing.
        LeadChange::SetOwner(new) if !caller.is_other(current) && !caller.is_other(new) => {
            Action::WorkOwnLead
        }
        LeadChange::SetOwner(_) => Action::Assign,
    };
    caller.require(action)
}

/// The lead `id` if it exists and the caller may see it; 404 otherwise, so a hidden lead looks
/// like a missing one.
pub async fn visible_lead(state: &AppState, caller: &Caller, id: i64) -> Result<Lead, AppError> {
    state
        .store
        .get(id)
        .await?
        .filter(|lead| caller.sees(lead, state.config.visibility))
        .ok_or(AppError::LeadNotFound(id))
}

/// The lead `id`, if the caller may see it and work it ([`LeadChange::Work`]).
pub async fn workable_lead(state: &AppState, caller: &Caller, id: i64) -> Result<Lead, AppError> {
    let lead = visible_lead(state, caller, id).await?;
    authorize(caller, &lead, LeadChange::Work)?;
    Ok(lead)
}

#[cfg(test)]
mod tests {
    use leadhook_shared::Role;

    use super::*;
    use crate::writer::test_lead;

    fn caller(name: &str, role: Role) -> Caller {
        Caller {
            name: name.into(),
            role,
        }
    }

    fn owned_by(owner: Option<&str>) -> Lead {
        let now = chrono::Utc::now();
        Lead {
            id: 1,
            leadgen_id: Some("1".into()),
            meta: test_lead("1", now).meta,
            status: Default::default(),
            is_manual: false,
            received_at: now,
            updated_at: now,
            notes: None,
            owner: owner.map(str::to_string),
            owned_at: None,
            first_contact_at: None,
            erased_at: None,
            next_step: None,
            attempts: 0,
            repeat_of: None,
            junk_cleared_at: None,
        }
    }

    #[test]
    fn a_rep_works_their_own_and_unowned_leads_only() {
        let alice = caller("alice", Role::Rep);
        for owner in [None, Some("alice")] {
            let lead = owned_by(owner);
            assert!(authorize(&alice, &lead, LeadChange::Work).is_ok());
            assert!(authorize(&alice, &lead, LeadChange::Release).is_ok());
            assert!(authorize(&alice, &lead, LeadChange::SetOwner(Some("alice"))).is_ok());
            assert!(authorize(&alice, &lead, LeadChange::SetOwner(None)).is_ok());
            assert!(authorize(&alice, &lead, LeadChange::SetOwner(Some("bob"))).is_err());
        }
        let bobs = owned_by(Some("bob"));
        for change in [
            LeadChange::Work,
            LeadChange::Release,
            LeadChange::SetOwner(None),
            LeadChange::SetOwner(Some("alice")),
        ] {
            assert!(matches!(
                authorize(&alice, &bobs, change),
                Err(AppError::Forbidden { .. })
            ));
        }
    }

    #[test]
    fn a_manager_works_every_lead() {
        let carol = caller("carol", Role::Manager);
        let bobs = owned_by(Some("bob"));
        assert!(authorize(&carol, &bobs, LeadChange::Work).is_ok());
        assert!(authorize(&carol, &bobs, LeadChange::SetOwner(Some("alice"))).is_ok());
        assert!(carol.require(Action::Erase).is_err());
    }

    #[test]
    fn visibility_own_hides_other_reps_leads_from_reps_only() {
        let alice = caller("alice", Role::Rep);
        let bobs = owned_by(Some("bob"));
        assert!(alice.sees(&bobs, Visibility::Team));
        assert!(!alice.sees(&bobs, Visibility::Own));
        assert!(alice.sees(&owned_by(None), Visibility::Own));
        assert!(caller("carol", Role::Manager).sees(&bobs, Visibility::Own));
        assert_eq!(alice.visible_to(Visibility::Own).as_deref(), Some("alice"));
        assert_eq!(alice.visible_to(Visibility::Team), None);
    }
}
