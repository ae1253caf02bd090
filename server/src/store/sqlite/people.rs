//! People and junk in the SQLite store: a new lead is linked to the person of the newest lead in
//! the duplicate window with the same phone, else the same e-mail key (see
//! [`crate::store::people`]), in the transaction that inserts it; a rep merges and unlinks by hand;
//! junk is cleared by a rep.

use super::erase::activity_with_kinds;

/// The e-mail key, the junk flag, the person link, and which leads the triage backfill has read
/// (leads stored before have `triaged = 0`; every insert from now on sets it).
pub(super) const MIGRATION: &str = concat!(
    r#"
    ALTER TABLE leads ADD COLUMN email_key TEXT;
    ALTER TABLE leads ADD COLUMN junk_reason TEXT;
    ALTER TABLE leads ADD COLUMN junk_cleared_at INTEGER;
    ALTER TABLE leads ADD COLUMN repeat_of INTEGER;
    ALTER TABLE leads ADD COLUMN triaged INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX leads_email_key ON leads (email_key) WHERE email_key IS NOT NULL;
    CREATE INDEX leads_repeat_of ON leads (repeat_of) WHERE repeat_of IS NOT NULL;
    CREATE INDEX leads_untriaged ON leads (id) WHERE triaged = 0;
"#,
    activity_with_kinds!(
        "'stored','redelivered','status','notes','claim','release','assign','erase','exported','next_step','attempt','linked','submitted_again','unlinked','junk_cleared'"
    )
);
