//! End to end in a real terminal: the leadhook server in this process (the sim's `TestServer`,
//! with the Graph API stand-in for Facebook), the real `leadhook` dashboard cargo built for this
//! test inside tmux, a signed webhook announcing a lead, and a key press that changes the lead's
//! status on the server.
//!
//! Needs tmux: without it the terminal tests fail with an install hint, as the D-Bus and
//! PostgREST tests do (`scripts/test` installs all three).
//! Beside it, `leadhook watch --json` against the same server, through a pipe, and the team's
//! work queue: alice claims a lead and bob's dashboard shows her as its owner within a second.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use leadhook_shared::{ApiList, ApiOk, Lead, LeadStatus, Me, NextStep};
use leadhook_sim::harness::{TestSettings, poll_until};
use leadhook_sim::{BodyStyle, GraphStandin, LeadFaker, TestServer, WebhookSender};

pub(crate) const APP_SECRET: &str = "e2e-app-secret";
const PAGE_TOKEN: &str = "e2e-page-token";
pub(crate) const REP_TOKEN: &str = "e2e-rep-token";
const ALICE_TOKEN: &str = "e2e-alice-token";
const BOB_TOKEN: &str = "e2e-bob-token";
const WAIT: Duration = Duration::from_secs(40);

/// The server with its Graph API stand-in, and the dashboard against it in tmux as the rep of
/// `token`, polling every `interval`, once `ready` is on its screen.
async fn dashboard_session(
    token: &str,
    interval: &str,
    ready: &str,
) -> (tempfile::TempDir, GraphStandin, Server, Tmux) {
    let tmux_runs = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        tmux_runs,
        "tmux not found: apt-get install tmux, or run scripts/test which installs it"
    );
    let (dir, graph, server) = start_server().await;
    let tmux = Tmux::dashboard(dir.path(), &server, token, interval);
    tmux.wait_for_text(ready).await;
    (dir, graph, server, tmux)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_lead_appears_on_screen_and_2_marks_it_contacted() {
    let (dir, graph, server, tmux) = dashboard_session(REP_TOKEN, "300ms", "synced").await;

    let (leadgen_id, name) = announce_lead(&graph, &server, 4).await;

    // The table may cut a long name short; its first characters are enough to find the row.
    let shown: String = name.chars().take(14).collect();
    tmux.wait_for_text(&shown).await;
    // The toast follows once the batch window has passed.
    tmux.wait_for_text(&format!("New lead: {shown}")).await;

    let lead = server.lead_by_leadgen_id(&leadgen_id).await;
    assert_eq!(lead.status, LeadStatus::NewLead);
    tmux.send_keys(&["g", "2"]);
    let current = poll_until(
        WAIT,
        || server.lead(lead.id),
        |current| current.status == LeadStatus::Contacted,
    )
    .await;
    assert_eq!(
        current.status,
        LeadStatus::Contacted,
        "after pressing 2; screen:\n{}",
        tmux.capture()
    );
    tmux.wait_for_text("Contacted").await;

    tmux.send_keys(&["q"]);
    let exit_code = dir.path().join("exit-code");
    // The shell writes the code and a newline once leadhook has exited.
    let code = poll_until(
        WAIT,
        || async { std::fs::read_to_string(&exit_code).unwrap_or_default() },
        |code| code.ends_with('\n'),
    )
    .await;
    assert!(
        code.ends_with('\n'),
        "leadhook did not exit on q:\n{}\nlog:\n{}",
        tmux.capture(),
        std::fs::read_to_string(dir.path().join("leadhook").join("leadhook.log"))
            .unwrap_or_default()
    );
    assert_eq!(code.trim(), "0", "leadhook exited with {code}");
    // The terminal was restored: the alternate screen is gone, so the dashboard is too.
    let screen = tmux.capture();
    assert!(
        !screen.contains("Leads 1"),
        "dashboard still on screen:\n{screen}"
    );
}

/// Alice claims a lead through the API; bob's dashboard, on the pushed change, shows her as the
/// owner within a second. Then bob presses `c` on it and the lost claim is a toast naming alice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_by_alice_shows_on_bobs_dashboard_within_a_second() {
    // A 60 s poll interval: only the pushed event can bring the change within the second.
    let (_dir, graph, server, tmux) = dashboard_session(BOB_TOKEN, "60s", "live").await;
    let (leadgen_id, name) = announce_lead(&graph, &server, 12).await;
    let shown: String = name.chars().take(14).collect();
    tmux.wait_for_text(&shown).await;
    let lead = server.lead_by_leadgen_id(&leadgen_id).await;
    assert_eq!(lead.owner, None);
    // bob's dashboard knows who it is once the status bar names him.
    tmux.wait_for_text("bob ● available").await;
    let row = |screen: &str| {
        screen
            .lines()
            .find(|line| line.contains(&shown))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        row(&tmux.capture()).contains("unowned"),
        "{}",
        tmux.capture()
    );

    let claimed_at = Instant::now();
    let claimed: ApiOk<Lead> = server
        .post(&format!("/api/leads/{}/claim", lead.id), ALICE_TOKEN)
        .await;
    assert_eq!(claimed.data.owner.as_deref(), Some("alice"));
    let screen = poll_until(
        Duration::from_secs(1).saturating_sub(claimed_at.elapsed()),
        || async { tmux.capture() },
        |screen| row(screen).contains("alice"),
    )
    .await;
    assert!(
        row(&screen).contains("alice"),
        "alice is not the owner on bob's screen 1 s after her claim:\n{screen}"
    );
    eprintln!("claim to bob's screen: {:?}", claimed_at.elapsed());

    tmux.send_keys(&["c"]);
    let screen = tmux.wait_for_text("Could not claim").await;
    assert!(screen.contains("alice"), "{screen}");
    assert_eq!(server.lead(lead.id).await.owner.as_deref(), Some("alice"));
}

/// A follow-up alice sets through the API 5 s ahead: when it falls due the server pushes a
/// reminder (its clock is real here) and her dashboard shows the toast, then counts it overdue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_falling_due_is_a_toast_on_the_owners_screen() {
    let (_dir, graph, server, tmux) = dashboard_session(ALICE_TOKEN, "60s", "live").await;
    let (leadgen_id, name) = announce_lead(&graph, &server, 21).await;
    let shown: String = name.chars().take(14).collect();
    tmux.wait_for_text(&shown).await;
    tmux.wait_for_text("alice ● available").await;
    let lead = server.lead_by_leadgen_id(&leadgen_id).await;
    let _: ApiOk<Lead> = server
        .post(&format!("/api/leads/{}/claim", lead.id), ALICE_TOKEN)
        .await;

    let at = chrono::Utc::now() + chrono::Duration::seconds(5);
    let step = NextStep {
        at,
        what: "Call back".into(),
    };
    let set: ApiOk<Lead> = server
        .put(
            &format!("/api/leads/{}/next-step", lead.id),
            ALICE_TOKEN,
            &step,
        )
        .await;
    assert_eq!(
        set.data.next_step.map(|step| step.what).as_deref(),
        Some("Call back")
    );

    let screen = tmux.wait_for_text(&format!("Follow-up due: {shown}")).await;
    assert!(
        chrono::Utc::now() >= at - chrono::Duration::seconds(1),
        "the reminder came before the step was due:\n{screen}"
    );
    assert!(screen.contains("— Call back"), "{screen}");
    tmux.wait_for_text("1 overdue").await;

    // On start the dashboard set this computer's zone as alice's.
    if let Ok(local) = iana_time_zone::get_timezone() {
        let me = poll_until(
            WAIT,
            || server.get_as::<ApiOk<Me>>("/api/reps/me", ALICE_TOKEN),
            |me| me.data.time_zone.is_some(),
        )
        .await;
        assert_eq!(me.data.time_zone.as_deref(), Some(local.as_str()));
    }
}

/// `watch --json` prints a new lead as one JSON line the moment it is stored: with a 60 s poll
/// interval, only the pushed event can deliver it within the wait, and only a flushed line can
/// cross the pipe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_json_prints_a_pushed_lead_at_once() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let (dir, graph, server) = start_server().await;
    let home = dir.path();
    let mut watch = tokio::process::Command::new(dashboard_binary())
        .args(["watch", "--json", "--server", &server.url])
        .args(["--interval", "60s"])
        .env("LEADHOOK_TOKEN", REP_TOKEN)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_CACHE_HOME", home)
        .env("HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("leadhook watch starts");
    let mut status = BufReader::new(watch.stderr.take().expect("stderr")).lines();
    let mut leads = BufReader::new(watch.stdout.take().expect("stdout")).lines();

    let live = tokio::time::timeout(WAIT, async {
        while let Some(line) = status.next_line().await.expect("read stderr") {
            if line.contains("connected (live)") {
                return;
            }
        }
        panic!("watch ended before push connected");
    });
    live.await.expect("watch connects to the event stream");

    let started = Instant::now();
    let (leadgen_id, name) = announce_lead(&graph, &server, 7).await;
    let line = tokio::time::timeout(Duration::from_secs(15), leads.next_line())
        .await
        .expect("a line within 15 s, long before the next poll")
        .expect("read stdout")
        .expect("a line");
    let lead: Lead = serde_json::from_str(&line).expect("one JSON lead per line");
    assert_eq!(lead.leadgen_id.as_deref(), Some(leadgen_id.as_str()));
    assert_eq!(lead.display_name(), name);
    eprintln!("webhook to watch line: {:?}", started.elapsed());
}

pub(crate) async fn start_server() -> (tempfile::TempDir, GraphStandin, Server) {
    start_server_with(|_| {}).await
}

/// [`start_server`] with its configuration changed by `adjust`.
pub(crate) async fn start_server_with(
    adjust: impl FnOnce(&mut leadhook_server::config::Config),
) -> (tempfile::TempDir, GraphStandin, Server) {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = TestSettings {
        app_secret: APP_SECRET.into(),
        verify_token: "e2e-verify-token".into(),
        page_token: PAGE_TOKEN.into(),
        api_tokens: format!("rep:{REP_TOKEN},alice:{ALICE_TOKEN},bob:{BOB_TOKEN}"),
    };
    let graph = settings
        .spawn_graph()
        .await
        .expect("Graph API stand-in starts");
    let mut config = settings
        .config(&graph, &dir.path().join("data"))
        .expect("valid server settings");
    adjust(&mut config);
    let server = TestServer::start(config, leadhook_server::intake::DEFAULT_RETRY)
        .await
        .expect("leadhook server starts");
    let server = Server {
        url: server.base_url(),
        http: reqwest::Client::new(),
        _server: server,
    };
    (dir, graph, server)
}

/// Puts a fake lead on the Graph stand-in and announces it with a signed webhook, as Meta
/// does. Returns its leadgen id and the name the server will store.
pub(crate) async fn announce_lead(
    graph: &GraphStandin,
    server: &Server,
    seed: u64,
) -> (String, String) {
    let mut faker = LeadFaker::new(seed).on_page(graph.config().page_id.clone());
    let fake = faker.next_lead(chrono::Utc::now());
    let leadgen_id = graph.add_fake_lead(&fake);
    WebhookSender::new(
        format!("{}/webhook", server.url),
        APP_SECRET.to_string().into(),
    )
    .expect("webhook sender")
    .send_leads(&[(&fake).into()], &BodyStyle::default())
    .await
    .expect("the server accepts the signed webhook");
    (leadgen_id, fake.display_name())
}

pub(crate) fn dashboard_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leadhook"))
}

/// The server in this process, and a client for its API.
pub(crate) struct Server {
    pub(crate) url: String,
    http: reqwest::Client,
    _server: TestServer,
}

impl Server {
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.get_as(path, REP_TOKEN).await
    }

    async fn get_as<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let request = self.http.get(format!("{}{path}", self.url));
        answer(request.bearer_auth(token)).await
    }

    async fn post<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let request = self.http.post(format!("{}{path}", self.url));
        answer(request.bearer_auth(token)).await
    }

    async fn put<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        body: &impl serde::Serialize,
    ) -> T {
        let request = self.http.put(format!("{}{path}", self.url)).json(body);
        answer(request.bearer_auth(token)).await
    }

    async fn lead(&self, id: i64) -> Lead {
        self.get::<ApiOk<Lead>>(&format!("/api/leads/{id}"))
            .await
            .data
    }

    pub(crate) async fn lead_by_leadgen_id(&self, leadgen_id: &str) -> Lead {
        let list: ApiList = self.get("/api/leads?limit=100").await;
        list.data
            .into_iter()
            .find(|lead| lead.leadgen_id.as_deref() == Some(leadgen_id))
            .expect("the announced lead is stored")
    }
}

/// A tmux server of our own (its own socket), so nothing touches the user's sessions.
pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    /// The dashboard against `server` as the rep of `token`, polling every `interval`.
    pub(crate) fn dashboard(dir: &Path, server: &Server, token: &str, interval: &str) -> Tmux {
        let binary = dashboard_binary().to_string_lossy().into_owned();
        let command = [
            binary.as_str(),
            "--server",
            &server.url,
            "--interval",
            interval,
            "--no-notify",
        ];
        Tmux::start(dir, token, &command)
    }

    /// Runs `command` with `LEADHOOK_TOKEN=token` in a 120x40 session; its exit code lands in
    /// `<dir>/exit-code`.
    pub(crate) fn start(dir: &Path, token: &str, command: &[&str]) -> Tmux {
        // One tmux server per test: the tests of this file run at the same time.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let nth = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmux = Tmux {
            socket: format!("leadhook-e2e-{}-{nth}", std::process::id()),
        };
        let home = dir.to_string_lossy();
        // Config and logs go to the temp dir; no desktop session either way.
        let mut shell = format!(
            "env XDG_CONFIG_HOME='{home}' XDG_CACHE_HOME='{home}' LEADHOOK_LOG=debug LEADHOOK_TOKEN='{token}'"
        );
        for part in command {
            shell.push_str(&format!(" '{part}'"));
        }
        shell.push_str(&format!("; echo $? > '{home}/exit-code'; sleep 60"));
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            "120",
            "-y",
            "40",
            &shell,
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Appends every byte the program writes to the pane to `path` from now on.
    pub(crate) fn record_output(&self, path: &Path) {
        let command = format!("cat >> '{}'", path.display());
        self.run(&["pipe-pane", "-o", "-t", "e2e", &command]);
    }

    pub(crate) fn capture(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    pub(crate) fn send_keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "e2e", key]);
        }
    }

    pub(crate) async fn wait_for_text(&self, text: &str) -> String {
        let screen = poll_until(
            WAIT,
            || async { self.capture() },
            |screen| screen.contains(text),
        )
        .await;
        assert!(
            screen.contains(text),
            "{text:?} never appeared on screen:\n{screen}"
        );
        screen
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

/// The JSON of a successful API answer to `request`.
async fn answer<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    request
        .send()
        .await
        .expect("API request")
        .error_for_status()
        .expect("API success")
        .json()
        .await
        .expect("API JSON")
}
