//! Python packages from PyPI that the outbound tests run as the real thing (the official
//! Standard Webhooks verifier, the `aiosmtpd` SMTP server), each pinned, in its own virtual
//! environment under the tests' cache directory, made once, as `scripts/test --setup` makes them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// The venv's python for `package` (`name==version`), after creating the venv and installing the
/// package when missing: `~/.cache/leadhook/<name>-<version>`.
pub fn python(package: &str) -> PathBuf {
    static MADE: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut made = MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(python) = made.get(package) {
        return python.clone();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME is set");
    let dir = cache.join("leadhook").join(package.replace("==", "-"));
    let python = dir.join("bin").join("python");
    let ready = dir.join(".installed");
    if !ready.exists() {
        let venv = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .expect("python3 runs (install python3 and python3-venv)");
        assert!(venv.success(), "python3 -m venv {}", dir.display());
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", package])
            .status()
            .expect("pip runs");
        assert!(installed.success(), "pip install {package}");
        std::fs::write(&ready, package).expect("mark the venv ready");
    }
    made.insert(package.to_string(), python.clone());
    python
}
