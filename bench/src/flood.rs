//! Flood: the release server, started as systemd and Docker start services (soft open-file
//! limit 1,024), under 1,100 idle connections (reopened as the server closes them) and 100
//! clients trickling 8 MB bodies at once (half announcing their length, half chunked), while a
//! signed webhook is sent every 250 ms on a new connection.
//!
//! Figures: the server's peak resident memory (`VmHWM` of the child process), the slowest
//! signed webhook's answer, and the share of them answered 200.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use clap::Args;
use leadhook_server::webhook::signature::{SIGNATURE_HEADER, sign};
use leadhook_sim::harness::ServerProcess;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::fixture::APP_SECRET;
use crate::report::{Figure, Figures, Target};

const BENCHMARK: &str = "flood";
/// A signature of the right shape that matches nothing: the slow bodies get past the header check.
const WELL_FORMED_SIGNATURE: &str =
    "sha256=0000000000000000000000000000000000000000000000000000000000000000";
const CHUNK: usize = 16 * 1024;
const CHUNK_PAUSE: Duration = Duration::from_millis(100);
const WEBHOOK_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Args)]
pub struct FloodArgs {
    /// Idle connections held open.
    #[arg(long, default_value_t = 1_100)]
    pub idle: usize,
    /// Clients trickling large bodies, each reconnecting when refused.
    #[arg(long, default_value_t = 100)]
    pub slow: usize,
    /// Bytes each slow client tries to send.
    #[arg(long, default_value_t = 8_000_000)]
    pub body_bytes: usize,
    /// How long the flood lasts per run, in seconds.
    #[arg(long, default_value_t = 15)]
    pub seconds: u64,
    /// The leadhook-server binary; by default the one next to this program
    /// (`cargo build --release -p leadhook-server`).
    #[arg(long)]
    pub server: Option<PathBuf>,
}

pub async fn run(args: &FloodArgs, runs: usize) -> anyhow::Result<Figures> {
    let needed = (args.idle + args.slow + 256) as u64;
    let limit =
        rlimit::increase_nofile_limit(needed).context("cannot raise the open-file limit")?;
    ensure!(
        limit >= needed,
        "the flood needs {needed} open files; this shell allows {limit} (raise `ulimit -Hn`)"
    );
    let binary = crate::fixture::server_binary(args.server.as_deref())?;
    let mut figures = Figures::default();
    for _ in 0..runs {
        one_run(args, &binary, &mut figures).await?;
    }
    Ok(figures)
}

async fn one_run(args: &FloodArgs, binary: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let server = start_server(binary, data_dir.path()).await?;
    let address = server.base_url().trim_start_matches("http://").to_string();
    let idle_start_mb = memory_mb(&server, "VmRSS:")?;

    let stop = CancellationToken::new();
    let idle: Vec<_> = (0..args.idle)
        .map(|_| tokio::spawn(hold_idle(address.clone(), stop.clone())))
        .collect();
    let slow: Vec<_> = (0..args.slow)
        .map(|i| {
            tokio::spawn(trickle(
                address.clone(),
                i % 2 == 0,
                args.body_bytes,
                stop.clone(),
            ))
        })
        .collect();

    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()?;
    let (mut sent, mut accepted, mut slowest) = (0u32, 0u32, Duration::ZERO);
    let flood_ends = Instant::now() + Duration::from_secs(args.seconds);
    while Instant::now() < flood_ends {
        tokio::time::sleep(WEBHOOK_EVERY).await;
        let body = format!(
            r#"{{"object":"page","entry":[{{"id":"1","time":1,"changes":[{{"field":"leadgen","value":{{"leadgen_id":"{}","page_id":"1","form_id":"2"}}}}]}}]}}"#,
            900_000 + sent
        );
        let started = Instant::now();
        let answer = client
            .post(format!("http://{address}/webhook"))
            .header(
                SIGNATURE_HEADER,
                sign(APP_SECRET.as_bytes(), body.as_bytes()),
            )
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let elapsed = started.elapsed();
        sent += 1;
        slowest = slowest.max(elapsed);
        if answer.is_ok_and(|response| response.status() == reqwest::StatusCode::OK) {
            accepted += 1;
        }
    }
    let peak_mb = memory_mb(&server, "VmHWM:")?;
    stop.cancel();
    for task in slow.into_iter().chain(idle) {
        let _ = task.await;
    }
    eprintln!(
        "flood: {} idle + {} slow connections for {} s; server RSS {idle_start_mb:.0} MB at start, \
         {peak_mb:.0} MB at peak; {accepted}/{sent} signed webhooks answered 200, slowest {} ms",
        args.idle,
        args.slow,
        args.seconds,
        slowest.as_millis()
    );
    figures.record(
        Figure::new(BENCHMARK, "server peak RSS", "MB").target(Target::AtMost(150.0)),
        peak_mb,
    );
    figures.record(
        Figure::new(BENCHMARK, "slowest signed webhook", "ms").target(Target::AtMost(1000.0)),
        slowest.as_secs_f64() * 1000.0,
    );
    figures.record(
        Figure::new(BENCHMARK, "signed webhooks answered 200", "%").target(Target::AtLeast(100.0)),
        f64::from(accepted) * 100.0 / f64::from(sent.max(1)),
    );
    Ok(())
}

/// One idle client: connects and sends nothing, reconnecting when the server closes it.
async fn hold_idle(address: String, stop: CancellationToken) {
    let mut byte = [0u8; 1];
    while !stop.is_cancelled() {
        match TcpStream::connect(&address).await {
            Ok(mut stream) => {
                tokio::select! {
                    _ = stream.read(&mut byte) => {}
                    () = stop.cancelled() => {}
                }
            }
            Err(_) => tokio::time::sleep(CHUNK_PAUSE).await,
        }
    }
}

/// One slow client: sends a large body a chunk at a time, reconnecting whenever the server
/// answers or closes, until `stop`.
async fn trickle(
    address: String,
    announce_length: bool,
    body_bytes: usize,
    stop: CancellationToken,
) {
    let chunk = vec![b' '; CHUNK];
    while !stop.is_cancelled() {
        let Ok(mut stream) = TcpStream::connect(&address).await else {
            tokio::time::sleep(CHUNK_PAUSE).await;
            continue;
        };
        let length = if announce_length {
            format!("Content-Length: {body_bytes}")
        } else {
            "Transfer-Encoding: chunked".to_string()
        };
        let head = format!(
            "POST /webhook HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n\
             {SIGNATURE_HEADER}: {WELL_FORMED_SIGNATURE}\r\n{length}\r\n\r\n"
        );
        if stream.write_all(head.as_bytes()).await.is_err() {
            continue;
        }
        let mut sent = 0;
        let mut answer = [0u8; 512];
        while sent < body_bytes && !stop.is_cancelled() {
            let framed = if announce_length {
                chunk.clone()
            } else {
                let mut framed = format!("{CHUNK:x}\r\n").into_bytes();
                framed.extend_from_slice(&chunk);
                framed.extend_from_slice(b"\r\n");
                framed
            };
            if stream.write_all(&framed).await.is_err() {
                break;
            }
            sent += CHUNK;
            // Stop as soon as the server answers (413, 503, 408) or closes.
            tokio::select! {
                read = stream.read(&mut answer) => if read.is_ok() { break },
                () = tokio::time::sleep(CHUNK_PAUSE) => {}
            }
        }
    }
}

/// `leadhook-server serve` under a soft open-file limit of 1,024, as systemd and Docker start
/// services; killed when dropped.
async fn start_server(binary: &Path, data_dir: &Path) -> anyhow::Result<ServerProcess> {
    let env = [
        ("FB_APP_SECRET", APP_SECRET.as_ref()),
        ("FB_VERIFY_TOKEN", "bench-verify-token".as_ref()),
        ("FB_PAGE_ACCESS_TOKEN", "bench-page-token".as_ref()),
        // No Graph API: the intake retries in the background; the flood is about /webhook.
        ("FB_GRAPH_URL", "http://127.0.0.1:9".as_ref()),
        ("LEADHOOK_DATA_DIR", data_dir.as_os_str()),
        (
            "LEADHOOK_API_TOKENS",
            "bench:admin:bench-rep-token-1".as_ref(),
        ),
        // Quiet, but for the line that says where the server listens.
        ("RUST_LOG", "error,leadhook_server=info".as_ref()),
    ];
    ServerProcess::start_with_open_file_limit(binary, env, 1024)
        .await
        .with_context(|| format!("cannot start {}", binary.display()))
}

/// A memory line of the server's `/proc/<pid>/status` (`VmRSS:` now, `VmHWM:` at peak), in MB.
fn memory_mb(server: &ServerProcess, line: &str) -> anyhow::Result<f64> {
    process_memory_mb(server.pid().context("the server has stopped")?, line)
}

/// A memory line of `/proc/<pid>/status` (`VmRSS:` now, `VmHWM:` at peak), in MB.
pub fn process_memory_mb(pid: u32, line: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("cannot read the server's /proc status (Linux only)")?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(line))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("/proc status has no {line} line"))?;
    Ok(kib * 1024.0 / 1_000_000.0)
}
