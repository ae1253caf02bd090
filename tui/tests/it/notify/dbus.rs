//! Desktop notifications against a real session D-Bus: a private `dbus-daemon` and a recording
//! `org.freedesktop.Notifications` server that, like most desktop daemons, renders body markup.
//! Lead names must arrive as text, never as markup. Needs `dbus-daemon` (Debian package `dbus`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use leadhook::notify::{Delivery, Notice};
use zbus::zvariant::OwnedValue;

use super::{assert_in_child, desktop_with_counted_bell, run_in_child};

/// The summary and body of every notification the daemon was asked to show.
#[derive(Clone, Default)]
struct Recorder {
    received: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    fn get_capabilities(&self) -> Vec<String> {
        vec![
            "body".into(),
            "body-markup".into(),
            "body-hyperlinks".into(),
        ]
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut received = self.received.lock().expect("recorder lock");
        received.push((summary, body));
        u32::try_from(received.len()).unwrap_or(u32::MAX)
    }

    fn close_notification(&self, _id: u32) {}

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "recorder".into(),
            "leadhook tests".into(),
            "1".into(),
            "1.2".into(),
        )
    }
}

/// A session bus of our own, stopped when dropped.
struct Bus {
    daemon: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Bus {
    fn start() -> Bus {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!(
                "--address=unix:path={}",
                dir.path().join("bus").display()
            ))
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon must be installed for this test (Debian: apt-get install dbus)");
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().expect("piped stdout"))
            .read_line(&mut address)
            .expect("dbus-daemon prints its address");
        Bus {
            daemon,
            address: address.trim().to_string(),
            _dir: dir,
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lead_text_reaches_a_markup_daemon_escaped_and_without_nul() {
    let bus = Bus::start();
    assert!(bus.address.starts_with("unix:"), "{}", bus.address);
    let recorder = Recorder::default();
    let _server = zbus::connection::Builder::address(bus.address.as_str())
        .expect("bus address")
        .name("org.freedesktop.Notifications")
        .expect("well-known name")
        .serve_at("/org/freedesktop/Notifications", recorder.clone())
        .expect("object path")
        .build()
        .await
        .expect("the recording daemon connects to the test bus");

    run_in_child("notify::dbus::desktop_delivery_in_child", &bus.address).await;

    let received = recorder.received.lock().expect("recorder lock").clone();
    assert_eq!(
        received,
        vec![(
            "New lead: &lt;b&gt;Eve&lt;/b&gt; &amp; co".to_string(),
            "&lt;a href=\"http://evil.test\"&gt;Claim&lt;/a&gt; &lt;img src=\"http://evil.test/x.png\"/&gt; — Spring Promo form".to_string(),
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child part of lead_text_reaches_a_markup_daemon_escaped_and_without_nul"]
async fn desktop_delivery_in_child() {
    assert_in_child();
    let (notifications, rings) = desktop_with_counted_bell();
    let notice = Notice {
        summary: "New lead: <b>Eve</b> & co".into(),
        body: "<a href=\"http://evil.test\">Claim</a> <img src=\"http://evil.test/x.png\"/>\0 — Spring \u{202e}Promo form".into(),
    };
    let delivery = tokio::time::timeout(Duration::from_secs(20), notifications.deliver(notice))
        .await
        .expect("the notification is answered");
    assert_eq!(delivery, Delivery::Desktop);
    assert_eq!(rings.load(Ordering::Relaxed), 0);
}
