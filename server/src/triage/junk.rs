//! Junk: leads that are stored like every lead (never lost) but not worth a rep's time, so they
//! are not routed, notified or escalated until a rep clears the flag. A lead is junk when it is
//! one of Meta's test leads, when it matches one of the operator's rules (`LEADHOOK_JUNK_RULES`),
//! or when it offers no way to reach the person. A rep's own manual lead is never junk.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};
use leadhook_shared::MetaFields;
use leadhook_shared::person::is_plausible_email;

use crate::limits::{MAX_JUNK_RULES, MAX_JUNK_RULES_BYTES};

/// How Meta's Lead Ads Testing Tool fills a field: `<test lead: dummy data for full_name>`.
const TEST_LEAD_PLACEHOLDER: &str = "<test lead:";

/// The e-mails Meta's test leads carry.
const TEST_LEAD_EMAILS: [&str; 2] = ["test@meta.com", "test@fb.com"];

/// The reason given for one of Meta's test leads.
pub const META_TEST_LEAD: &str = "Meta test lead";

/// The reason given for a lead without a valid phone or a plausible e-mail.
pub const UNREACHABLE: &str = "no way to reach the person (no valid phone, no plausible e-mail)";

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Email,
    /// The e-mail's domain, or any domain under it.
    Domain,
    /// The phone in E.164, or as typed.
    Phone,
}

impl Field {
    fn parse(word: &str) -> Option<Field> {
        match word.to_ascii_lowercase().as_str() {
            "name" => Some(Field::Name),
            "email" => Some(Field::Email),
            "domain" => Some(Field::Domain),
            "phone" => Some(Field::Phone),
            _ => None,
        }
    }
}

/// One line of the rules file: a field and a case-insensitive pattern (`*` is any run of
/// characters, `?` one character) the whole value must match.
#[derive(Debug, Clone)]
struct Rule {
    field: Field,
    matcher: GlobMatcher,
    /// The line as the operator wrote it, given as the reason.
    text: String,
}

/// The operator's rules (`LEADHOOK_JUNK_RULES`); none by default.
#[derive(Debug, Clone, Default)]
pub struct JunkRules {
    rules: Vec<Rule>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct RuleError {
    pub line: usize,
    pub message: String,
}

impl JunkRules {
    /// Reads the rules file at `path` (see [`JunkRules::parse`]).
    pub fn read(path: &Path) -> Result<JunkRules, String> {
        let cannot_read = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
        let size = std::fs::metadata(path).map_err(cannot_read)?.len();
        if size > MAX_JUNK_RULES_BYTES {
            return Err(format!(
                "{} is {size} bytes; a rules file may be at most {MAX_JUNK_RULES_BYTES}",
                path.display()
            ));
        }
        let text = std::fs::read_to_string(path).map_err(cannot_read)?;
        JunkRules::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Rules, one per line: `name`, `email`, `domain` or `phone`, then a pattern. Blank lines and
    /// lines starting with `#` are skipped.
    ///
    /// ```text
    /// # junk-rules.txt
    /// domain mailinator.com
    /// email  *@example.com
    /// name   mickey mouse
    /// phone  +1555555*
    /// ```
    pub fn parse(text: &str) -> Result<JunkRules, RuleError> {
        let mut rules = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |message: String| RuleError {
                line: index + 1,
                message,
            };
            let (word, pattern) = line
                .split_once(char::is_whitespace)
                .map(|(word, pattern)| (word, pattern.trim()))
                .ok_or_else(|| {
                    error(format!(
                        "\"{line}\" needs a field and a pattern, like \"domain mailinator.com\""
                    ))
                })?;
            let field = Field::parse(word).ok_or_else(|| {
                error(format!(
                    "\"{word}\" is not one of name, email, domain, phone"
                ))
            })?;
            let matcher = GlobBuilder::new(pattern)
                .case_insensitive(true)
                .literal_separator(false)
                .backslash_escape(true)
                .build()
                .map_err(|e| error(format!("\"{pattern}\" is not a pattern: {e}")))?
                .compile_matcher();
            if rules.len() == MAX_JUNK_RULES {
                return Err(error(format!("more than {MAX_JUNK_RULES} rules")));
            }
            rules.push(Rule {
                field,
                matcher,
                text: format!("{} {pattern}", word.to_ascii_lowercase()),
            });
        }
        Ok(JunkRules { rules })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Why `lead` (from Meta, its phone and e-mail key already read) is junk, or `None`.
    pub fn check(&self, lead: &MetaFields) -> Option<String> {
        if is_meta_test_lead(lead) {
            return Some(META_TEST_LEAD.to_string());
        }
        if let Some(rule) = self.rules.iter().find(|rule| rule.matches(lead)) {
            return Some(format!("matches the rule \"{}\"", rule.text));
        }
        let reachable =
            lead.phone_e164.is_some() || lead.email.as_deref().is_some_and(is_plausible_email);
        (!reachable).then(|| UNREACHABLE.to_string())
    }
}

impl Rule {
    fn matches(&self, lead: &MetaFields) -> bool {
        let values: Vec<&str> = match self.field {
            Field::Name => lead.name.iter().map(|name| name.trim()).collect(),
            Field::Email => lead.email.iter().map(|email| email.trim()).collect(),
            Field::Domain => lead
                .email
                .as_deref()
                .and_then(|email| email.trim().rsplit_once('@'))
                .map(|(_, domain)| domain_and_parents(domain))
                .unwrap_or_default(),
            Field::Phone => lead
                .phone_e164
                .iter()
                .chain(&lead.phone)
                .map(|phone| phone.trim())
                .collect(),
        };
        values.into_iter().any(|value| self.matcher.is_match(value))
    }
}

/// `mail.example.com`, `example.com`, `com`: a domain rule covers its subdomains.
fn domain_and_parents(domain: &str) -> Vec<&str> {
    let mut domains = vec![domain];
    let mut rest = domain;
    while let Some((_, parent)) = rest.split_once('.') {
        domains.push(parent);
        rest = parent;
    }
    domains
}

/// Whether any value is one of Meta's test-lead placeholders, or the e-mail is Meta's.
fn is_meta_test_lead(lead: &MetaFields) -> bool {
    let placeholder = |value: &str| {
        value
            .trim_start()
            .get(..TEST_LEAD_PLACEHOLDER.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(TEST_LEAD_PLACEHOLDER))
    };
    let answers = lead.fields.values().flat_map(|answer| match answer {
        leadhook_shared::Answer::One(value) => vec![value.as_str()],
        leadhook_shared::Answer::Many(values) => values.iter().map(String::as_str).collect(),
    });
    let email_is_meta = lead.email.as_deref().is_some_and(|email| {
        TEST_LEAD_EMAILS
            .iter()
            .any(|meta| email.trim().eq_ignore_ascii_case(meta))
    });
    email_is_meta
        || [&lead.name, &lead.email, &lead.phone]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain(answers)
            .any(placeholder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(name: &str, email: Option<&str>, phone: Option<&str>) -> MetaFields {
        let mut meta: MetaFields = serde_json::from_value(serde_json::json!({
            "name": name, "email": email, "phone": phone,
            "created_at": "2026-12-07T10:00:00Z", "is_organic": false, "fields": {}
        }))
        .unwrap();
        meta.normalize("US".parse().ok());
        meta
    }

    #[test]
    fn meta_test_leads_are_junk() {
        let placeholder = lead(
            "<test lead: dummy data for full_name>",
            Some("test@meta.com"),
            Some("<test lead: dummy data for phone_number>"),
        );
        assert_eq!(
            JunkRules::default().check(&placeholder).as_deref(),
            Some(META_TEST_LEAD)
        );
        let only_email = lead("Jane Doe", Some(" Test@FB.com "), Some("+1 202 555 0143"));
        assert_eq!(
            JunkRules::default().check(&only_email).as_deref(),
            Some(META_TEST_LEAD)
        );
        let mut answer = lead("Jane Doe", Some("jane@example.com"), None);
        answer.fields.insert(
            "budget".into(),
            leadhook_shared::Answer::One("<test lead: dummy data for budget>".into()),
        );
        assert_eq!(
            JunkRules::default().check(&answer).as_deref(),
            Some(META_TEST_LEAD)
        );
    }

    #[test]
    fn a_lead_without_a_way_to_reach_the_person_is_junk() {
        let rules = JunkRules::default();
        assert_eq!(
            rules
                .check(&lead("Jane", Some("jane@"), Some("12")))
                .as_deref(),
            Some(UNREACHABLE)
        );
        assert_eq!(
            rules.check(&lead("Jane", None, None)).as_deref(),
            Some(UNREACHABLE)
        );
        // An invalid phone beside a good e-mail is only marked; a valid phone alone is enough.
        let invalid_phone = lead("Jane", Some("jane@example.com"), Some("12"));
        assert!(invalid_phone.phone_invalid);
        assert_eq!(rules.check(&invalid_phone), None);
        assert_eq!(
            rules.check(&lead("Jane", None, Some("(202) 555-0143"))),
            None
        );
    }

    #[test]
    fn operator_rules_match_whole_values_case_insensitively() {
        let rules = JunkRules::parse(
            "# junk\n\ndomain mailinator.com\nemail *@example.org\nname  Mickey Mouse\nphone +1202555*\n",
        )
        .unwrap();
        assert_eq!(rules.len(), 4);
        let check = |name, email, phone| rules.check(&lead(name, email, phone));
        assert_eq!(
            check("Jane", Some("jane@eu.MAILINATOR.com"), None).as_deref(),
            Some("matches the rule \"domain mailinator.com\"")
        );
        assert_eq!(
            check("Jane", Some("x@example.org"), None).as_deref(),
            Some("matches the rule \"email *@example.org\"")
        );
        assert_eq!(
            check("mickey mouse", Some("m@disney.example.com"), None).as_deref(),
            Some("matches the rule \"name Mickey Mouse\"")
        );
        assert_eq!(
            check("Jane", None, Some("(202) 555-0143")).as_deref(),
            Some("matches the rule \"phone +1202555*\"")
        );
        assert_eq!(
            check("Mickey Mouse Jr", Some("jane@notmailinator.com"), None),
            None
        );
    }

    #[test]
    fn a_rules_file_is_bounded_in_rules_and_bytes() {
        let many = "name x\n".repeat(MAX_JUNK_RULES + 1);
        assert_eq!(
            JunkRules::parse(&many).unwrap_err().line,
            MAX_JUNK_RULES + 1
        );
        assert_eq!(
            JunkRules::parse(&many[..many.len() - 7]).unwrap().len(),
            MAX_JUNK_RULES
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk-rules.txt");
        std::fs::write(&path, "#".repeat(MAX_JUNK_RULES_BYTES as usize + 1)).unwrap();
        let error = JunkRules::read(&path).unwrap_err();
        assert!(error.contains("at most"), "{error}");
        assert!(
            JunkRules::read(&dir.path().join("missing"))
                .unwrap_err()
                .contains("cannot read")
        );
    }

    #[test]
    fn a_bad_rules_file_names_the_line() {
        assert_eq!(
            JunkRules::parse("domain a.com\nzip 12345\n").unwrap_err(),
            RuleError {
                line: 2,
                message: "\"zip\" is not one of name, email, domain, phone".into()
            }
        );
        assert_eq!(JunkRules::parse("name\n").unwrap_err().line, 1);
        assert_eq!(JunkRules::parse("name [a\n").unwrap_err().line, 1);
    }
}
