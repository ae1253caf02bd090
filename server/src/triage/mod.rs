//! How the server reads a lead as it arrives, before the store sees it: the phone in E.164 (by the
//! page's region), the e-mail key people are matched on, and whether it is junk. The store then
//! links repeats and routes (see [`crate::store::people`]). Leads stored before any of this was
//! read are read by the [`backfill`].

pub mod backfill;
pub mod junk;

use leadhook_shared::{MetaFields, NewManualLead};

use crate::config::PhoneRegions;
use junk::JunkRules;

/// The operator's settings for reading leads.
#[derive(Debug, Clone, Default)]
pub struct Triage {
    /// `LEADHOOK_DEFAULT_REGION`, `LEADHOOK_PAGE_REGIONS`.
    pub regions: PhoneRegions,
    /// `LEADHOOK_JUNK_RULES`.
    pub junk: JunkRules,
    /// `LEADHOOK_DUPLICATE_WINDOW`: how far apart two submissions of one person are linked.
    pub repeat_window: chrono::Duration,
}

impl Triage {
    /// Fills in what the server derives from a lead from Meta.
    pub fn read(&self, meta: &mut MetaFields) {
        meta.normalize(self.regions.for_page(meta.page_id.as_deref()));
        meta.junk_reason = self.junk.check(meta);
    }

    /// Fills in what the server derives from a lead a rep entered (never junk: the rep spoke to
    /// the person).
    pub fn read_manual(&self, new: &mut NewManualLead) {
        new.normalize(self.regions.for_page(None));
    }
}
