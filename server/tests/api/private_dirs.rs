//! Issue 24: every command that creates the data directory makes it private (0700), whatever the
//! umask: `serve` did already, `store copy` and `erase` created it 0755 under umask 022.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::*;

/// `leadhook-server <args>` under umask 022 with only `env` set, in an empty working directory.
fn run_with_umask_022(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let workdir = tempfile::tempdir().expect("temp dir");
    Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(server_binary())
        .args(args)
        .current_dir(workdir.path())
        .env_clear()
        .envs(env.iter().map(|(name, value)| (name, value.as_os_str())))
        .output()
        .expect("run leadhook-server")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("the data dir was created")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn store_copy_and_erase_create_the_data_dir_private() {
    let parent = tempfile::tempdir().unwrap();

    // The copy fails (nothing listens at the Supabase URL), after it created the data dir.
    let copy_dir = parent.path().join("copy/data");
    let copy = run_with_umask_022(
        &["store", "copy", "--to", "sqlite"],
        &[
            ("LEADHOOK_DATA_DIR", &copy_dir),
            ("SUPABASE_URL", Path::new("http://127.0.0.1:9")),
            ("SUPABASE_SECRET_KEY", Path::new("sb_secret_test")),
        ],
    );
    assert_eq!(mode(&copy_dir), 0o700, "{copy:?}");

    let erase_dir = parent.path().join("erase/data");
    let settings = settings();
    let erase = run_with_umask_022(
        &["erase", "--email", "nobody@example.com"],
        &[
            ("FB_APP_SECRET", Path::new(APP_SECRET)),
            ("FB_VERIFY_TOKEN", Path::new(VERIFY_TOKEN)),
            ("FB_PAGE_ACCESS_TOKEN", Path::new(PAGE_TOKEN)),
            ("LEADHOOK_API_TOKENS", Path::new(&settings.api_tokens)),
            ("LEADHOOK_DATA_DIR", &erase_dir),
        ],
    );
    assert!(erase.status.success(), "{erase:?}");
    assert_eq!(mode(&erase_dir), 0o700, "{erase:?}");
}
