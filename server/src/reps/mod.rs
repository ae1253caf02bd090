//! Reps and their tokens: tokens made and hashed here ([`token`]), the server's table of who may
//! call `/api` ([`RepCache`], asked by `server/src/api/auth.rs`), and `leadhook-server reps`
//! ([`cli`]), which manages the reps in the store without a restart.

mod cache;
pub mod cli;
pub mod token;

pub use cache::{REFRESH_EVERY, RepCache};

use leadhook_shared::team::actor;

/// Longest rep name.
pub const MAX_NAME: usize = 64;

/// Why a rep name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("give the rep a name")]
    Empty,
    #[error("the name is longer than {MAX_NAME} characters; use a shorter one")]
    TooLong,
    #[error("the name holds {0:?}; use letters, digits, spaces, dots or dashes")]
    Character(char),
    #[error("\"{0}\" names the server in lead histories; give the rep another name")]
    Reserved(String),
}

/// The name, trimmed, if a rep may have it: not empty, at most [`MAX_NAME`] characters, without
/// `:` or `,` (they separate `LEADHOOK_API_TOKENS`) or control characters, and not one of the
/// server's own names in lead histories.
pub fn valid_name(name: &str) -> Result<&str, NameError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.chars().count() > MAX_NAME {
        return Err(NameError::TooLong);
    }
    if let Some(bad) = name
        .chars()
        .find(|c| matches!(c, ':' | ',') || c.is_control())
    {
        return Err(NameError::Character(bad));
    }
    if [actor::FACEBOOK, actor::SWEEPER, actor::SYSTEM].contains(&name) {
        return Err(NameError::Reserved(name.to_string()));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(valid_name("  Ann Lee "), Ok("Ann Lee"));
        assert_eq!(valid_name(" "), Err(NameError::Empty));
        assert_eq!(valid_name(&"a".repeat(65)), Err(NameError::TooLong));
        assert_eq!(valid_name("a:b"), Err(NameError::Character(':')));
        assert_eq!(valid_name("a,b"), Err(NameError::Character(',')));
        assert_eq!(valid_name("a\u{7}"), Err(NameError::Character('\u{7}')));
        assert_eq!(
            valid_name("system"),
            Err(NameError::Reserved("system".into()))
        );
    }
}
