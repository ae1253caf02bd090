//! With no D-Bus session, a desktop notification fails quietly and the bell rings instead.
//! Alone in its own test binary because it changes the process environment.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use leadhook::notify::{Delivery, Notice};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(unsafe_code)]
async fn without_a_dbus_session_the_bell_rings_and_nothing_breaks() {
    // SAFETY: this binary's only test sets the variable before any thread that reads it exists.
    unsafe {
        std::env::set_var(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/leadhook-test-bus",
        );
    }
    let (notifications, rings) = support::desktop_with_counted_bell();
    let notice = Notice {
        summary: "New lead".into(),
        body: "Jane Doe — Spring Promo form".into(),
    };
    for _ in 0..2 {
        let delivery = tokio::time::timeout(
            Duration::from_secs(20),
            notifications.deliver(notice.clone()),
        )
        .await
        .expect("a missing D-Bus must not hang the notifier");
        assert_eq!(delivery, Delivery::Bell);
    }
    assert_eq!(rings.load(Ordering::Relaxed), 2);
}
