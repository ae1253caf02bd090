//! Secrets never on the command line, where every local user reads them in `ps`: each secret
//! flag given with a value is refused with the way out, and its `-file` form must be private.

use std::process::{Command, Output};

use crate::helpers::server_binary;

const SECRET: &str = "do-not-echo-0123456789";

/// Runs `leadhook-server <args>` with an empty environment (no `.env`: the working directory is
/// a fresh one).
fn run(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(server_binary())
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .output()
        .expect("leadhook-server runs")
}

#[test]
fn every_secret_flag_with_a_value_is_refused_naming_its_variable_and_file_form() {
    let cases: [(&[&str], &str, &str); 11] = [
        (&["serve"], "fb-app-secret", "FB_APP_SECRET"),
        (&["serve"], "fb-verify-token", "FB_VERIFY_TOKEN"),
        (&["serve"], "fb-page-access-token", "FB_PAGE_ACCESS_TOKEN"),
        (&["serve"], "api-tokens", "LEADHOOK_API_TOKENS"),
        (&["serve"], "fb-capi-token", "FB_CAPI_TOKEN"),
        (&["serve"], "fb-ads-token", "FB_ADS_TOKEN"),
        (&["serve"], "claim-secret", "LEADHOOK_CLAIM_SECRET"),
        (
            &["store", "copy", "--to", "supabase"],
            "supabase-secret-key",
            "SUPABASE_SECRET_KEY",
        ),
        (
            &["serve"],
            "supabase-service-role-key",
            "SUPABASE_SERVICE_ROLE_KEY",
        ),
        (&["doctor"], "token", "LEADHOOK_TOKEN"),
        (
            &["erase", "--email", "a@example.com"],
            "api-tokens",
            "LEADHOOK_API_TOKENS",
        ),
    ];
    for (command, flag, env) in cases {
        let flag_with_value = format!("--{flag}={SECRET}");
        let output = run(&[command, &[flag_with_value.as_str()]].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command:?} --{flag}: {stderr}"
        );
        let hint = format!(
            "--{flag} puts the secret in `ps` for every local user; use {env} or --{flag}-file"
        );
        assert!(stderr.contains(&hint), "{command:?} --{flag}: {stderr}");
        assert!(!stderr.contains(SECRET), "{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_secret_file_others_can_read_is_refused_naming_the_file_and_chmod() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app-secret");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shown = path.display().to_string();
    let output = run(&["serve", "--fb-app-secret-file", &shown]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{shown} can be read by group or others (mode 644): run chmod 600 {shown}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = run(&["serve", "--fb-app-secret-file", &shown]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("FB_VERIFY_TOKEN is not set"),
        "the private file is taken, the next setting is missing: {stderr}"
    );
}
