//! Shared by the notification tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use leadhook::notify::{DesktopNotifier, Notifications};

/// Desktop notifications whose terminal bell only counts its rings.
pub fn desktop_with_counted_bell() -> (Notifications, Arc<AtomicUsize>) {
    let rings = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&rings);
    let notifications = Notifications::new(
        Arc::new(DesktopNotifier),
        Box::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        }),
    );
    (notifications, rings)
}
