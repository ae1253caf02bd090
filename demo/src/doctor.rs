//! `leadhook-server doctor --e2e` against the demo: the settings that point it at the demo's
//! server and simulated Facebook, as a command to paste into another terminal, or run here
//! (`leadhook-demo --doctor`).

use std::path::PathBuf;

use leadhook_server::config::ServeArgs;
use leadhook_server::doctor::{self, DoctorArgs, EndToEndArgs};
use leadhook_sim::GraphStandin;
use secrecy::ExposeSecret;

/// Doctor settings for the demo server at `server_url`, configured like it by `serve`. The
/// doctor's own store check gets `data_dir`: the running server keeps its data dir to itself.
pub fn args(
    graph: &GraphStandin,
    serve: &ServeArgs,
    server_url: &str,
    rep_token: &str,
    data_dir: PathBuf,
) -> DoctorArgs {
    DoctorArgs {
        serve: ServeArgs {
            public_url: Some(server_url.to_string()),
            data_dir: Some(data_dir),
            ..serve.clone()
        },
        fb_app_id: Some(graph.config().app_id.clone()),
        subscribe: false,
        capi_test: None,
        e2e: EndToEndArgs {
            e2e: true,
            server: Some(server_url.to_string()),
            token: Some(rep_token.into()),
            ..EndToEndArgs::default()
        },
    }
}

/// The same settings as a `leadhook-server doctor --e2e` command line (run from the repository).
pub fn command_line(args: &DoctorArgs) -> String {
    let serve = &args.serve;
    let data_dir = serve.data_dir.as_ref().map(|dir| dir.display().to_string());
    // The demo's own made-up secrets, spelled for copying. They go in the environment: the server
    // refuses a secret flag, as every local user sees a command line in `ps`.
    let secrets = [
        ("FB_APP_SECRET", serve.fb_app_secret.as_ref()),
        ("FB_VERIFY_TOKEN", serve.fb_verify_token.as_ref()),
        ("FB_PAGE_ACCESS_TOKEN", serve.fb_page_access_token.as_ref()),
        ("LEADHOOK_API_TOKENS", serve.api_tokens.as_ref()),
        ("LEADHOOK_TOKEN", args.e2e.token.as_ref()),
    ];
    let flags = [
        ("--fb-app-id", args.fb_app_id.as_deref()),
        ("--fb-graph-url", serve.fb_graph_url.as_deref()),
        ("--fb-page-id", serve.fb_page_id.as_deref()),
        ("--public-url", serve.public_url.as_deref()),
        ("--data-dir", data_dir.as_deref()),
        ("--server", args.e2e.server.as_deref()),
    ];
    let mut line = String::new();
    for (var, value) in secrets {
        if let Some(value) = value {
            line.push_str(&format!(
                "{var}={} \\\n",
                shell_quoted(value.expose_secret())
            ));
        }
    }
    line.push_str("cargo run -p leadhook-server -- doctor --e2e");
    for (flag, value) in flags {
        if let Some(value) = value {
            line.push_str(&format!(" \\\n    {flag} {}", shell_quoted(value)));
        }
    }
    line
}

/// `value` as one shell word.
fn shell_quoted(value: &str) -> String {
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./:,@".contains(&b));
    if plain && !value.is_empty() {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Runs the checks and the end-to-end test here and prints them; whether all passed.
pub async fn run(args: &DoctorArgs) -> bool {
    println!("leadhook doctor --e2e against the demo\n");
    let mut checks = doctor::run(args).await;
    checks
        .iter()
        .for_each(|check| print!("{}", doctor::render_check(check)));
    let check = doctor::end_to_end_with_spinner(args).await;
    print!("{}", doctor::render_check(&check));
    checks.push(check);
    print!("{}", doctor::summary(&checks));
    checks.iter().all(doctor::Check::passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_sets_secrets_in_the_environment_not_as_flags() {
        let args = DoctorArgs {
            serve: ServeArgs {
                fb_app_secret: Some("app-secret".into()),
                fb_verify_token: Some("verify-token".into()),
                fb_page_access_token: Some("page-token".into()),
                api_tokens: Some("demo:rep-token".into()),
                fb_page_id: Some("123".into()),
                ..ServeArgs::default()
            },
            fb_app_id: Some("42".into()),
            subscribe: false,
            capi_test: None,
            e2e: EndToEndArgs {
                e2e: true,
                server: Some("http://127.0.0.1:9".into()),
                token: Some("rep-token".into()),
                ..EndToEndArgs::default()
            },
        };
        let line = command_line(&args);
        for set in [
            "FB_APP_SECRET=app-secret \\\n",
            "FB_VERIFY_TOKEN=verify-token \\\n",
            "FB_PAGE_ACCESS_TOKEN=page-token \\\n",
            "LEADHOOK_API_TOKENS=demo:rep-token \\\n",
            "LEADHOOK_TOKEN=rep-token \\\ncargo run -p leadhook-server -- doctor --e2e",
            "--fb-page-id 123",
            "--server http://127.0.0.1:9",
        ] {
            assert!(line.contains(set), "{set:?} missing in:\n{line}");
        }
        let (_, flags) = line.split_once("doctor --e2e").unwrap();
        assert!(
            !flags.contains("token") && !flags.contains("secret"),
            "{line}"
        );
    }

    #[test]
    fn odd_values_are_quoted_for_the_shell() {
        assert_eq!(shell_quoted("http://127.0.0.1:80"), "http://127.0.0.1:80");
        assert_eq!(shell_quoted("a b"), "'a b'");
        assert_eq!(shell_quoted("it's"), r"'it'\''s'");
        assert_eq!(shell_quoted(""), "''");
    }
}
