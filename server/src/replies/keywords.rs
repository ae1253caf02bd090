//! Twilio's default SMS opt-out and opt-in keywords: the whole body, trimmed, any case.

/// What an inbound SMS body asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
}

const OPT_OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
const OPT_IN: [&str; 3] = ["START", "UNSTOP", "YES"];

/// The keyword `body` is, if it is one ("stop please" is a message, not a keyword).
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = body.trim().to_uppercase();
    if OPT_OUT.contains(&word.as_str()) {
        Some(Keyword::OptOut)
    } else if OPT_IN.contains(&word.as_str()) {
        Some(Keyword::OptIn)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_keyword_in_any_case_and_padding() {
        for word in OPT_OUT {
            assert_eq!(keyword(word), Some(Keyword::OptOut), "{word}");
            assert_eq!(
                keyword(&format!("  {}\n", word.to_lowercase())),
                Some(Keyword::OptOut)
            );
        }
        for word in OPT_IN {
            assert_eq!(
                keyword(&format!(" {word} ")),
                Some(Keyword::OptIn),
                "{word}"
            );
        }
        assert_eq!(keyword("Stop"), Some(Keyword::OptOut));
        assert_eq!(keyword("stop calling me at work"), None);
        assert_eq!(keyword("Tomorrow at 10 is better"), None);
        assert_eq!(keyword(""), None);
    }
}
