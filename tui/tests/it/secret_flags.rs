//! The API token never on the command line, where every local user reads it in `ps`.

use std::process::{Command, Output};

const TOKEN: &str = "do-not-echo-0123456789";

/// Runs `leadhook <args>` against an invalid server URL, so that a run not refused at once ends
/// with that error instead of waiting for a server.
fn run(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_leadhook"))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_CACHE_HOME", home.path())
        .env("LEADHOOK_SERVER", "not a url")
        .output()
        .expect("leadhook runs")
}

#[test]
fn a_token_on_the_command_line_is_refused_with_the_way_out() {
    for args in [["--token", TOKEN, "watch"], ["watch", "--token", TOKEN]] {
        let output = run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(
                "--token puts the secret in `ps` for every local user; use LEADHOOK_TOKEN or --token-file"
            ),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains(TOKEN), "{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_token_file_others_can_read_is_refused_naming_the_file_and_chmod() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, TOKEN).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let shown = path.display().to_string();
    let output = run(&["--token-file", &shown, "watch"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{shown} can be read by group or others (mode 640): run chmod 600 {shown}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "{stderr}");
}
