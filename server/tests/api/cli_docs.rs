use std::process::Command;

use crate::helpers::server_binary;

/// Runs `leadhook-server <args>` with an empty environment and returns its standard output.
fn printed(args: &[&str]) -> String {
    let output = Command::new(server_binary())
        .args(args)
        .env_clear()
        .output()
        .expect("leadhook-server runs");
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

const SUBCOMMANDS: [&str; 5] = ["serve", "doctor", "migrate", "backup", "channels"];

#[test]
fn completion_scripts_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = printed(&["completions", shell]);
        for subcommand in SUBCOMMANDS {
            assert!(
                script.contains(subcommand),
                "{shell} script lacks {subcommand}"
            );
        }
    }
}

#[test]
fn the_manual_page_is_roff_naming_every_subcommand() {
    let page = printed(&["man"]);
    assert!(page.contains(".TH leadhook-server"), "{page}");
    for subcommand in SUBCOMMANDS {
        assert!(page.contains(subcommand), "the manual lacks {subcommand}");
    }
}

#[test]
fn backup_refuses_a_supabase_store_and_points_at_supabase_backups() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(server_binary())
        .args(["backup", &dir.path().join("copy").display().to_string()])
        .env_clear()
        .env("SUPABASE_URL", "https://abc.supabase.co/rest/v1")
        .output()
        .expect("leadhook-server runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Supabase's own backups"), "{stderr}");
    assert!(!dir.path().join("copy").exists());
}
