//! With no D-Bus session, a desktop notification fails quietly and the bell rings instead.

use std::sync::atomic::Ordering;
use std::time::Duration;

use leadhook::notify::{Delivery, Notice};

use super::{assert_in_child, desktop_with_counted_bell, run_in_child};

#[tokio::test]
async fn without_a_dbus_session_the_bell_rings_and_nothing_breaks() {
    run_in_child(
        "notify::without_dbus::bell_rings_in_child",
        "unix:path=/nonexistent/leadhook-test-bus",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child part of without_a_dbus_session_the_bell_rings_and_nothing_breaks"]
async fn bell_rings_in_child() {
    assert_in_child();
    let (notifications, rings) = desktop_with_counted_bell();
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
