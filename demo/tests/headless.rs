//! The demo, started headless, shows simulated leads flowing end to end within seconds.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use leadhook_shared::Lead;

#[test]
fn simulated_leads_flow_end_to_end_within_seconds() {
    let started = Instant::now();
    let wall_start = chrono::Utc::now() - chrono::Duration::seconds(1);
    let mut demo = Command::new(env!("CARGO_BIN_EXE_leadhook-demo"))
        .args(["--headless", "--every", "0.3", "--duration", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start leadhook-demo");
    let stdout = demo.stdout.take().expect("stdout");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send((line, Instant::now())).is_err() {
                return;
            }
        }
    });

    let mut leads: Vec<Lead> = Vec::new();
    // Earlier leads arrive through the sweeper; fresh ones through signed webhooks.
    let fresh = |leads: &[Lead]| {
        leads
            .iter()
            .filter(|l| l.meta.created_at >= wall_start)
            .count()
    };
    while (leads.len() < 5 || fresh(&leads) < 3) && started.elapsed() < Duration::from_secs(25) {
        if let Ok((line, _)) = received.recv_timeout(Duration::from_millis(200)) {
            leads.push(
                serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a lead JSON line ({e}): {line}")),
            );
        }
    }
    let elapsed = started.elapsed();
    let _ = demo.kill();
    let _ = demo.wait();

    assert!(
        leads.len() >= 5,
        "only {} leads in {elapsed:?}",
        leads.len()
    );
    assert!(
        fresh(&leads) >= 3,
        "only {} leads submitted during the run arrived in {elapsed:?}",
        fresh(&leads)
    );
    assert!(
        elapsed < Duration::from_secs(20),
        "leads should flow within seconds, took {elapsed:?}"
    );
    for lead in &leads {
        assert!(
            lead.leadgen_id.is_some() && lead.meta.name.is_some() && lead.meta.form_name.is_some(),
            "{lead:?}"
        );
        assert!(
            !lead.meta.fields.is_empty(),
            "answers were fetched from the simulated Graph API: {lead:?}"
        );
    }
    let ids: std::collections::BTreeSet<_> = leads.iter().map(|l| l.id).collect();
    assert_eq!(ids.len(), leads.len(), "each lead is printed once");
}
