//! `leadhook completions <shell>` and `leadhook man` print what shells and `man` need.

use std::process::Command;

fn printed(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_leadhook"))
        .args(args)
        .env_clear()
        .output()
        .expect("leadhook runs");
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn completion_scripts_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = printed(&["completions", shell]);
        for subcommand in ["watch", "report", "completions", "man"] {
            assert!(
                script.contains(subcommand),
                "{shell} script lacks {subcommand}"
            );
        }
    }
}

#[test]
fn the_manual_page_is_roff_naming_the_subcommands() {
    let page = printed(&["man"]);
    assert!(page.contains(".TH leadhook"), "{page}");
    for subcommand in ["watch", "report", "completions"] {
        assert!(page.contains(subcommand), "the manual lacks {subcommand}");
    }
}
