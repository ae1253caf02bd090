//! Graph API lead bodies through the whole lead parsing path (JSON, then the stored shape), and the
//! same bytes as a `created_time` string: any input must give a value or an error, never a panic.
#![no_main]

use chrono::{DateTime, Utc};
use leadhook_shared::meta::{GraphLead, parse_graph_lead, parse_meta_time};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(lead) = GraphLead::from_json(body)
        && let Ok(parsed) = parse_graph_lead(lead, DateTime::<Utc>::UNIX_EPOCH)
    {
        assert!(
            !matches!(parsed.leadgen_id.as_str(), "" | "0"),
            "a lead without a usable id must be rejected, got {:?}",
            parsed.leadgen_id
        );
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = parse_meta_time(text);
    }
});
