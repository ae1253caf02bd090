//! The shared crate's integration tests, in one binary: the Meta payload parsers never panic, and
//! the front pages (README.md, ARCHITECTURE.md) keep up with the tree.

mod parsers_never_panic;
mod phone_oracle;
mod workspace_docs;
