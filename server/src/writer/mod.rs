//! The one way leads are written. Leads from Meta (webhook or sweep), a rep's edit and a manual lead
//! all go through [`LeadWriter`], which keeps the form-name cache, records the store's health in
//! the runtime status and announces every stored change on the live feed (directly, or through
//! the change follower when the store is shared: see [`crate::feed`]). It holds the store's only
//! write role and the feed's only [`ChangeAnnouncer`], so each change is announced exactly once.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::{Lead, LeadPatch, NewAttempt, NewManualLead, NextStep};
use tokio::sync::Mutex;

use crate::triage::Triage;

mod people;
use crate::feed::ChangeAnnouncer;
use crate::graph::GraphClient;
use crate::health::{RuntimeHealth, StoreStatus};
use crate::store::{Claim, LeadWrites, Routing, StoreError, Upserted};
use crate::team::{Team, TeamView};

/// Handle to the write service; cheap to clone. It does not hand its store out:
///
/// ```compile_fail,E0599
/// # fn bypass(leads: &leadhook_server::writer::LeadWriter) {
/// let store = leads.store();
/// # }
/// ```
#[derive(Clone)]
pub struct LeadWriter {
    inner: Arc<Inner>,
}

struct Inner {
    /// The store's write role: nothing else in the server holds it.
    store: Arc<dyn LeadWrites>,
    graph: GraphClient,
    status: Arc<RuntimeHealth>,
    announcer: ChangeAnnouncer,
    form_names: Mutex<HashMap<String, Option<String>>>,
    team: TeamView,
    /// How leads are read as they arrive (phones, e-mail keys, junk, the duplicate window).
    triage: Triage,
    /// Held from a store write until its announcement, so this server announces its changes in
    /// the order the store gave them their cursors (`/api/events` skips anything older than what
    /// it already sent).
    in_order: Mutex<()>,
}

impl LeadWriter {
    /// The write service on `store`, announcing its changes through `announcer` (see
    /// [`crate::feed::Feed::for_store`]).
    pub fn new(
        store: Arc<dyn LeadWrites>,
        announcer: ChangeAnnouncer,
        graph: GraphClient,
        team: TeamView,
        triage: Triage,
    ) -> LeadWriter {
        LeadWriter {
            inner: Arc::new(Inner {
                store,
                graph,
                status: Arc::default(),
                announcer,
                form_names: Mutex::default(),
                team,
                triage,
                in_order: Mutex::default(),
            }),
        }
    }

    /// The team as it is now.
    pub fn team(&self) -> Arc<Team> {
        Arc::clone(&self.inner.team.borrow())
    }

    /// The server's runtime status, which this service and the Graph callers keep up to date.
    pub fn status(&self) -> &Arc<RuntimeHealth> {
        &self.inner.status
    }

    /// Stores a lead from Meta (webhook or sweep, named by `actor`): see [`Self::store_many_from_meta`].
    pub async fn store_from_meta(
        &self,
        lead: IncomingLead,
        actor: &str,
    ) -> Result<Upserted, StoreError> {
        let mut stored = self.store_many_from_meta(&mut [lead], actor).await?;
        stored
            .pop()
            .ok_or_else(|| StoreError::Internal("the store answered no lead for one".into()))
    }

    /// Stores leads from Meta (webhook or sweep, named by `actor`) in one store call, filling in
    /// their form names; the store gives new ones their owners as it inserts them (see
    /// [`Routing`]). Announces the leads the store changed, and nothing for a re-delivery that
    /// changed nothing.
    pub async fn store_many_from_meta(
        &self,
        leads: &mut [IncomingLead],
        actor: &str,
    ) -> Result<Vec<Upserted>, StoreError> {
        for lead in leads.iter_mut() {
            self.inner.triage.read(&mut lead.meta);
            if lead.meta.form_name.is_none()
                && let Some(form_id) = lead.meta.form_id.clone()
            {
                lead.meta.form_name = self.form_name(&form_id).await;
            }
        }
        let team = self.team();
        let _in_order = self.inner.in_order.lock().await;
        let stored = self.record(
            self.inner
                .store
                .upsert_many(leads, actor, self.routing(&team))
                .await,
        )?;
        for upserted in stored.iter().filter(|upserted| upserted.changed) {
            if upserted.inserted {
                tracing::info!(id = upserted.lead.id, leadgen_id = ?upserted.lead.leadgen_id, owner = ?upserted.lead.owner, "new lead stored");
            }
            self.announce(&upserted.lead);
        }
        Ok(stored)
    }

    /// Makes `rep` the owner unless another rep owns the lead; announces a claim.
    pub async fn claim(&self, id: i64, rep: &str) -> Result<Claim, StoreError> {
        let _in_order = self.inner.in_order.lock().await;
        let claim = self.record(self.inner.store.claim(id, rep).await)?;
        if let Claim::Claimed(lead) = &claim {
            tracing::info!(id, rep, "lead claimed");
            self.announce(lead);
        }
        Ok(claim)
    }

    /// Leaves the lead unowned and announces it; `None` when no lead has that id.
    pub async fn release(&self, id: i64, rep: &str) -> Result<Option<Lead>, StoreError> {
        let _in_order = self.inner.in_order.lock().await;
        let released = self.record(self.inner.store.release(id, rep).await)?;
        if let Some(lead) = &released {
            tracing::info!(id, rep, "lead released");
            self.announce(lead);
        }
        Ok(released)
    }

    /// Erases the person's data of lead `id` (see [`crate::store::erase`]) and announces the
    /// tombstone; `None` when no lead has that id. `reason` goes into the history's erase row.
    pub async fn erase(
        &self,
        id: i64,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Option<Lead>, StoreError> {
        let _in_order = self.inner.in_order.lock().await;
        let erased = self.record(self.inner.store.erase(id, actor, reason).await)?;
        if let Some(lead) = &erased {
            tracing::info!(id, actor, "lead erased");
            self.announce(lead);
        }
        Ok(erased)
    }

    /// Records in each lead's history that `rep` exported it. Nothing of the leads changes, so
    /// nothing is announced and no change cursor moves.
    pub async fn record_export(&self, ids: &[i64], rep: &str) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.record(self.inner.store.record_exports(ids, rep).await)?;
        tracing::info!(rep, leads = ids.len(), "leads exported");
        Ok(())
    }

    pub async fn set_available(&self, rep: &str, available: bool) -> Result<(), StoreError> {
        self.record(self.inner.store.set_available(rep, available).await)?;
        tracing::info!(rep, available, "availability changed");
        Ok(())
    }

    pub async fn set_time_zone(&self, rep: &str, zone: &str) -> Result<(), StoreError> {
        self.record(self.inner.store.set_time_zone(rep, zone).await)?;
        tracing::info!(rep, zone, "time zone set");
        Ok(())
    }

    /// Sets `rep`'s ntfy topic and quiet hours (both, as given), already checked.
    pub async fn set_rep_paging(
        &self,
        rep: &str,
        ntfy_topic: Option<&str>,
        quiet_hours: Option<leadhook_shared::QuietHours>,
    ) -> Result<(), StoreError> {
        self.record(
            self.inner
                .store
                .set_rep_paging(rep, ntfy_topic, quiet_hours)
                .await,
        )?;
        // The topic is a password on the public server: never in the log.
        tracing::info!(rep, topic_set = ntfy_topic.is_some(), quiet_hours = ?quiet_hours.map(|q| q.to_string()), "paging settings set");
        Ok(())
    }

    /// Marks the claim link `nonce` used; `true` for the first use only.
    pub async fn use_claim_link(
        &self,
        nonce: &str,
        lead_id: i64,
        rep: &str,
    ) -> Result<bool, StoreError> {
        self.record(self.inner.store.use_claim_link(nonce, lead_id, rep).await)
    }

    /// Takes the store's mark for reminding of `lead`'s next step; `true` for the one server that
    /// took it. Every server announces the marks it finds (see [`crate::reminders`]).
    pub async fn take_reminder(
        &self,
        lead: &Lead,
        step_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let taken = self.record(self.inner.store.take_reminder(lead.id, step_at, at).await)?;
        if taken {
            tracing::info!(id = lead.id, %step_at, "follow-up due");
        }
        Ok(taken)
    }

    /// Takes the store's mark for escalating `lead` to `level`; `true` for the one server that
    /// took it. Every server announces the marks it finds (see [`crate::escalation`]).
    pub async fn take_escalation(
        &self,
        lead: &Lead,
        level: u8,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let taken = self.record(self.inner.store.take_escalation(lead.id, level, at).await)?;
        if taken {
            tracing::info!(id = lead.id, level, "lead escalated");
        }
        Ok(taken)
    }

    /// Applies a rep's change and announces it; `None` when no lead has that id.
    pub async fn update(
        &self,
        id: i64,
        patch: &LeadPatch,
        rep: &str,
    ) -> Result<Option<Lead>, StoreError> {
        let _in_order = self.inner.in_order.lock().await;
        let updated = self.record(self.inner.store.update(id, patch, rep).await)?;
        if let Some(lead) = &updated {
            tracing::info!(id, rep, status = ?patch.status, notes_changed = patch.notes.is_some(), owner = ?patch.owner, "lead updated");
            self.announce(lead);
        }
        Ok(updated)
    }

    /// Sets (or with `None` clears) lead `id`'s next step and announces it; `None` when no lead
    /// has that id.
    pub async fn set_next_step(
        &self,
        id: i64,
        step: Option<&NextStep>,
        rep: &str,
    ) -> Result<Option<Lead>, StoreError> {
        let _in_order = self.inner.in_order.lock().await;
        let changed = self.record(self.inner.store.set_next_step(id, step, rep).await)?;
        if let Some(lead) = &changed {
            tracing::info!(id, rep, at = ?step.map(|step| step.at), "next step set");
            self.announce(lead);
        }
        Ok(changed)
    }

    /// Records a call attempt, scheduling the next step from `schedule` (see
    /// [`crate::store::FollowUps::record_attempt`]), and announces it; `None` when no lead has
    /// that id.
    pub async fn record_attempt(
        &self,
        id: i64,
        attempt: &NewAttempt,
        rep: &str,
        schedule: Option<&[NextStep]>,
    ) -> Result<Option<Lead>, StoreError> {
        let _in_order = self.inner.in_order.lock().await;
        let changed = self.record(
            self.inner
                .store
                .record_attempt(id, attempt, rep, schedule)
                .await,
        )?;
        if let Some(lead) = &changed {
            tracing::info!(id, rep, outcome = %attempt.outcome, attempts = lead.attempts, "call attempt recorded");
            self.announce(lead);
        }
        Ok(changed)
    }

    /// Stores a lead a rep took by phone or in person (the store routes it as it inserts it), and
    /// announces it.
    pub async fn create_manual(&self, new: &NewManualLead, rep: &str) -> Result<Lead, StoreError> {
        let mut new = new.clone();
        self.inner.triage.read_manual(&mut new);
        let new = &new;
        let team = self.team();
        let _in_order = self.inner.in_order.lock().await;
        let lead = self.record(
            self.inner
                .store
                .create_manual(new, rep, self.routing(&team))
                .await,
        )?;
        tracing::info!(id = lead.id, rep, owner = ?lead.owner, "manual lead created");
        self.announce(&lead);
        Ok(lead)
    }

    /// Remembers a form name learned elsewhere (the sweeper lists forms with their names).
    pub async fn learn_form_name(&self, form_id: &str, name: Option<String>) {
        self.inner
            .form_names
            .lock()
            .await
            .insert(form_id.to_string(), name);
    }

    /// Form names rarely change: ask once per form and remember (failures too, until restart).
    async fn form_name(&self, form_id: &str) -> Option<String> {
        if let Some(known) = self.inner.form_names.lock().await.get(form_id) {
            return known.clone();
        }
        let name = match self.inner.graph.form_name(form_id).await {
            Ok(name) => name,
            Err(error) if error.is_retryable() => return None,
            Err(error) => {
                tracing::debug!(%form_id, "form name not readable: {error}");
                None
            }
        };
        self.learn_form_name(form_id, name.clone()).await;
        name
    }

    /// Records what a store call says about the store's health. A refusal of one lead's data
    /// says nothing about the store as a whole.
    fn record<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        let status = match &result {
            Ok(_) => StoreStatus::Ok,
            Err(StoreError::Rejected(_) | StoreError::Erased { .. }) => return result,
            Err(StoreError::Misconfigured { message, fix }) => StoreStatus::Misconfigured {
                message: message.clone(),
                fix: fix.clone(),
            },
            Err(error) => StoreStatus::Unavailable {
                message: error.to_string(),
            },
        };
        self.inner.status.set_store(status);
        result
    }

    /// How the store routes the new leads this server writes: the team's mode and reps, and the
    /// window a person's repeats are linked in.
    fn routing<'a>(&self, team: &'a Team) -> Routing<'a> {
        Routing {
            assignment: team.assignment,
            reps: &team.reps,
            repeat_window: self.inner.triage.repeat_window,
        }
    }

    /// The only place this server's writes reach the live feed.
    fn announce(&self, lead: &Lead) {
        self.inner.announcer.announce(lead);
    }
}

#[cfg(test)]
impl LeadWriter {
    /// A writer on `store` for unit tests, with the live feed it announces on: its Graph client
    /// is never called (leads come with their form names).
    pub(crate) fn for_tests(
        store: Arc<crate::store::sqlite::SqliteStore>,
        team: Team,
    ) -> (LeadWriter, crate::feed::LiveFeed) {
        let secret = secrecy::SecretString::from("unused");
        let graph = GraphClient::new(
            "http://127.0.0.1:9",
            "v25.0",
            secret.clone(),
            &secret,
            std::time::Duration::from_secs(1),
            1,
        )
        .expect("a Graph client for tests");
        let feed =
            crate::feed::Feed::for_store(store.clone(), std::time::Duration::from_secs(1), None);
        let writer = LeadWriter::new(
            store,
            feed.announcer,
            graph,
            team.fixed(),
            Triage::default(),
        );
        (writer, feed.live)
    }
}

/// A lead from Meta for unit tests: `Person <leadgen_id>` with an e-mail and one answer,
/// submitted at `created_at` on the Spring Promo form.
#[cfg(test)]
pub(crate) fn test_lead(leadgen_id: &str, created_at: DateTime<Utc>) -> IncomingLead {
    let meta = serde_json::from_value(serde_json::json!({
        "name": format!("Person {leadgen_id}"),
        "email": format!("{leadgen_id}@example.com"),
        "created_at": created_at,
        "form_name": "Spring Promo",
        "is_organic": false,
        "fields": {"budget": "high"},
    }))
    .expect("meta fields");
    IncomingLead {
        leadgen_id: leadgen_id.to_string(),
        meta,
    }
}

#[cfg(test)]
mod tests {
    use leadhook_shared::team::actor::FACEBOOK;
    use leadhook_shared::{Assignment, LeadStatus};

    use super::*;
    use crate::store::sqlite::SqliteStore;

    /// The feed carries the lead, the rep's change, then the next lead: the identical re-delivery
    /// in between changed nothing and is not announced.
    #[tokio::test]
    async fn a_redelivery_that_changes_nothing_is_not_announced() {
        let submitted = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let lead = |leadgen_id: &str| test_lead(leadgen_id, submitted);
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("leads.db"))
            .await
            .unwrap();
        let team = Team {
            assignment: Assignment::Claim,
            reps: vec!["alice".into()],
        };
        let (writer, live) = LeadWriter::for_tests(Arc::new(store), team);
        let mut feed = live.subscribe();

        let first = writer.store_from_meta(lead("a"), FACEBOOK).await.unwrap();
        assert!(first.changed);
        let patch = LeadPatch {
            status: Some(LeadStatus::Contacted),
            ..LeadPatch::default()
        };
        writer.update(first.lead.id, &patch, "alice").await.unwrap();
        let again = writer.store_from_meta(lead("a"), FACEBOOK).await.unwrap();
        assert!(!again.changed);
        writer.store_from_meta(lead("b"), FACEBOOK).await.unwrap();

        let mut announced = Vec::new();
        while announced.len() < 3 {
            let lead = feed.recv().await.unwrap();
            announced.push((lead.leadgen_id.unwrap_or_default(), lead.status));
        }
        assert_eq!(
            announced,
            [
                ("a".to_string(), LeadStatus::NewLead),
                ("a".to_string(), LeadStatus::Contacted),
                ("b".to_string(), LeadStatus::NewLead),
            ]
        );
    }
}
