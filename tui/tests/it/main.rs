//! The dashboard's integration tests, in one test binary so that the workspace links one
//! instead of seven. Each module says what it drives: the real `leadhook` binary, the real
//! server in this process, tmux, or a private D-Bus.

mod answer_columns_from_server;
mod cli_docs;
mod e2e_links;
mod e2e_replies;
mod e2e_tmux;
mod insights_from_server;
mod json_log_file;
mod leads_from_server;
mod meta_feedback;
mod notify;
mod person_calls;
mod real_server;
mod secret_flags;
