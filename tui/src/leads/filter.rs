//! Which leads the table shows ([`Filter`]), and what a search reads of each lead ([`Entry`]).

use leadhook_shared::LeadStatus;
use leadhook_shared::answer_columns::AnswerColumns;

use super::LeadRow;
use super::search::Search;

/// Which leads the table shows: a status, a live search over name, phone and email (and answer
/// columns, `budget:5000`, see [`super::search`]), `m`'s "mine + unowned" for the rep named in
/// `mine`, and junk (hidden unless `junk`). A person (a lead and its later submissions) is one
/// row, shown when any of its submissions matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub status: Option<LeadStatus>,
    pub query: String,
    pub mine: Option<String>,
    /// Show junk leads too.
    pub junk: bool,
}

impl Filter {
    pub(super) fn matcher(&self, columns: &AnswerColumns) -> Matcher {
        let search = Search::parse(&self.query, columns);
        let needle = &search.needle;
        let phone_like = !needle.is_empty()
            && needle
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits = if phone_like {
            needle.chars().filter(char::is_ascii_digit).collect()
        } else {
            String::new()
        };
        Matcher {
            status: self.status,
            mine: self.mine.clone(),
            search,
            digits,
            junk: self.junk,
        }
    }

    /// True when every lead this filter shows is also shown by `wider`, as the same row.
    pub(super) fn narrows(&self, wider: &Filter, columns: &AnswerColumns) -> bool {
        self.junk == wider.junk
            && (wider.status.is_none() || wider.status == self.status)
            && (wider.mine.is_none() || wider.mine == self.mine)
            && Search::parse(&self.query, columns).narrows(&Search::parse(&wider.query, columns))
    }

    /// A search, status or junk filter is on (`Esc` clears them; "mine" stays until `m`).
    pub fn is_active(&self) -> bool {
        self.status.is_some() || !self.query.trim().is_empty() || self.junk
    }
}

#[derive(Default)]
pub(super) struct Matcher {
    status: Option<LeadStatus>,
    mine: Option<String>,
    /// The words, lower-cased, and the answer columns' terms.
    search: Search,
    /// The needle's digits when it looks like a phone number ("555 12-34"), else empty.
    digits: String,
    junk: bool,
}

impl Matcher {
    /// Whether `entry` counts at all: junk only when junk is shown.
    pub(super) fn eligible(&self, entry: &Entry) -> bool {
        self.junk || entry.row.junk().is_none()
    }

    pub(super) fn matches(&self, entry: &Entry) -> bool {
        if self.status.is_some_and(|status| status != entry.row.status) {
            return false;
        }
        if let Some(mine) = &self.mine
            && entry
                .row
                .owner
                .as_deref()
                .is_some_and(|owner| owner != mine)
        {
            return false;
        }
        let needle = &self.search.needle;
        self.search.terms_match(&entry.row)
            && (needle.is_empty()
                || entry.haystack.contains(needle.as_str())
                || (!self.digits.is_empty() && entry.phone_digits.contains(&self.digits)))
    }
}

pub(super) struct Entry {
    pub(super) row: LeadRow,
    /// Lowercased name, phone and email, so a search never allocates per lead.
    haystack: Box<str>,
    phone_digits: Box<str>,
}

impl Entry {
    /// The first load builds 100,000 of these, so each string is sized before it is filled.
    pub(super) fn new(row: LeadRow) -> Entry {
        let phone = row.phone.as_deref().unwrap_or_default();
        let mut phone_digits =
            String::with_capacity(phone.bytes().filter(u8::is_ascii_digit).count());
        phone_digits.extend(phone.chars().filter(char::is_ascii_digit));
        let contact = [&row.name, &row.phone, &row.email];
        let mut haystack = String::with_capacity(
            contact
                .into_iter()
                .flatten()
                .map(|text| text.len() + 1)
                .sum(),
        );
        for text in contact.into_iter().flatten() {
            if !haystack.is_empty() {
                haystack.push('\n');
            }
            // ASCII, the usual case, is lowercased without a copy in between.
            if text.is_ascii() {
                haystack.extend(text.chars().map(|c| c.to_ascii_lowercase()));
            } else {
                haystack.push_str(&text.to_lowercase());
            }
        }
        let (haystack, phone_digits) = (haystack.into_boxed_str(), phone_digits.into_boxed_str());
        Entry {
            row,
            haystack,
            phone_digits,
        }
    }
}
