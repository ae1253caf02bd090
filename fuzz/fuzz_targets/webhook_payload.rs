//! Raw `POST /webhook` bodies straight into the parser: any input must give `Ok` or `Err`, never a panic.
#![no_main]

use leadhook_shared::meta::parse_notification;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(notification) = parse_notification(body) {
        for event in &notification.events {
            assert!(
                !matches!(event.leadgen_id.as_str(), "" | "0"),
                "an unusable leadgen_id must count as malformed, got {:?}",
                event.leadgen_id
            );
        }
    }
});
