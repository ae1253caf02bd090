//! Desktop notifications. notify-rust finds the session bus only through
//! `DBUS_SESSION_BUS_ADDRESS`, and setting that here would reach every test in this binary: so
//! each test runs the notifying part in a child process of this binary, which alone is given
//! the variable.

mod dbus;
mod without_dbus;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use leadhook::notify::{DesktopNotifier, Notifications};

/// Set in the child process, for [`assert_in_child`].
const CHILD: &str = "LEADHOOK_TEST_NOTIFY_CHILD";

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

/// Runs this binary's ignored test `name` (its full path) alone in a child process whose session
/// bus is `bus_address`, and fails with the child's output unless it ran and passed.
async fn run_in_child(name: &str, bus_address: &str) {
    let binary = std::env::current_exe().expect("the test binary's path");
    let output = tokio::process::Command::new(binary)
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", bus_address)
        .env(CHILD, "1")
        .output()
        .await
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} in a child process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A child's part needs what its parent test set up (the bus, the variable): it does not run
/// on its own, under `--ignored` say.
fn assert_in_child() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "run by its parent test, in a child process with its own D-Bus address"
    );
}
