//! A lead's phone number read with libphonenumber's rules (the `phonenumber` crate, a port of
//! Google's library with its metadata): E.164 for storing and copying, the international format
//! for showing. The raw value is always kept as typed; this only adds to it.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex, PoisonError};

use phonenumber::country::Id;
use phonenumber::metadata::{Descriptor, Metadata};
use phonenumber::{Mode, PhoneNumber};
use regex::{Regex, RegexBuilder};

/// The libphonenumber metadata version the `phonenumber` crate carries (its version's build
/// part); the oracle fixture in `shared/tests/fixtures/phones/` was made with the Python port at
/// this version.
pub const METADATA_VERSION: &str = "9.0.33";

/// A region (ISO 3166-1 alpha-2, like `US` or `DE`) whose national numbers are read without a
/// country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(Id);

/// A region code libphonenumber does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown region `{0}`: expected a two-letter country code like US, GB or DE")]
pub struct UnknownRegion(pub String);

impl FromStr for Region {
    type Err = UnknownRegion;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        let upper = code.trim().to_ascii_uppercase();
        if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(UnknownRegion(code.to_string()));
        }
        Id::from_str(&upper)
            .map(Region)
            .map_err(|_| UnknownRegion(code.to_string()))
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

/// What libphonenumber makes of a raw phone value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// `+` and digits, when the value parses to a valid number.
    pub e164: Option<String>,
    /// Like `+49 30 123456`, when the value parses to a valid number.
    pub international: Option<String>,
}

impl Phone {
    /// Whether the value is a valid number; one that is not is kept as typed and marked.
    pub fn valid(&self) -> bool {
        self.e164.is_some()
    }
}

/// Reads `raw` as a phone number: with a `+` (or an international prefix the region dials) in any
/// country, else as a national number of `default_region`; without a region only numbers with
/// `+` can be read. A value that does not parse, or parses to a number that no country's plan
/// has (a wrong length, an unused range), is not a valid number: no E.164, so nothing dials or
/// matches a number that does not exist. Never panics, whatever the text.
pub fn normalize(raw: &str, default_region: Option<Region>) -> Phone {
    match parse_valid(raw, default_region) {
        Some(number) => Phone {
            e164: Some(number.format().mode(Mode::E164).to_string()),
            international: Some(number.format().mode(Mode::International).to_string()),
        },
        None => Phone {
            e164: None,
            international: None,
        },
    }
}

/// The international format of a stored E.164 value (`+4930123456` → `+49 30 123456`), for
/// showing; `None` when it is not one.
pub fn international(e164: &str) -> Option<String> {
    // Only formatting: the value was checked when it was stored, and the dashboard calls this for
    // every phone it draws.
    if !e164.starts_with('+') || e164.len() > 16 {
        return None;
    }
    let number = phonenumber::parse(None, e164).ok()?;
    Some(number.format().mode(Mode::International).to_string())
}

/// The number `raw` is, if it is a valid one. The value is bounded first: libphonenumber itself
/// refuses anything over 250 characters, and a lead's phone is untrusted text.
fn parse_valid(raw: &str, default_region: Option<Region>) -> Option<PhoneNumber> {
    const MAX_INPUT: usize = 250;
    if raw.len() > MAX_INPUT {
        return None;
    }
    // A `+` number is read the same in every region. The crate would otherwise strip the default
    // region's national prefix from it (`+44 121…` read in US lost its `1`), where libphonenumber
    // ignores the region.
    let region = if raw.trim_start().starts_with(['+', '\u{FF0B}']) {
        None
    } else {
        default_region.map(|region| region.0)
    };
    let number = phonenumber::parse(region, raw).ok()?;
    valid(&number).then_some(number)
}

/// The region (like `US`) an E.164 number (`+` and digits) belongs to, as libphonenumber's
/// `getRegionCodeForNumber` picks it; `None` for a value that is not such a number.
pub fn region_of(e164: &str) -> Option<String> {
    let digits = e164.strip_prefix('+')?;
    let number = phonenumber::parse(None, e164).ok()?;
    let code = number.code().value();
    let national = digits.strip_prefix(code.to_string().as_str())?;
    region_for(code, national).map(|meta| meta.id().to_string())
}

/// Whether `number` is a number of its region's plan, as libphonenumber's `isValidNumber` decides:
/// the region its calling code and leading digits pick, and there one of the possible lengths and
/// the whole national number matching the general pattern and one type's. Not the crate's own
/// `is_valid`, which accepts a pattern matching only a prefix (an Italian number two digits too
/// long passed) and whose regexes kept 17 MB of search caches in a busy server.
fn valid(number: &PhoneNumber) -> bool {
    // The national significant number, with an Italian leading zero the crate keeps apart.
    let e164 = number.format().mode(Mode::E164).to_string();
    let code = number.code().value();
    let Some(national) = e164
        .strip_prefix('+')
        .and_then(|rest| rest.strip_prefix(code.to_string().as_str()))
    else {
        return false;
    };
    region_for(code, national).is_some_and(|meta| valid_in(meta, national))
}

/// The region of calling code `code` whose plan `national` is in, as libphonenumber's
/// `getRegionCodeForNumber` picks it: the code's only region, else the first whose leading digits
/// begin the number or, for a region without them, whose patterns take it.
fn region_for(code: u16, national: &str) -> Option<&'static Metadata> {
    let regions = phonenumber::metadata::DATABASE.by_code(&code)?;
    if let [only] = regions.as_slice() {
        return Some(only);
    }
    regions
        .into_iter()
        .find(|meta| match meta.leading_digits() {
            Some(leading) => leading
                .find(national)
                .is_some_and(|found| found.start() == 0),
            None => valid_in(meta, national),
        })
}

/// Whether `national` is a number of `meta`'s plan: matching its general pattern and one type's.
fn valid_in(meta: &Metadata, national: &str) -> bool {
    let kinds = meta.descriptors();
    let types = [
        kinds.fixed_line(),
        kinds.mobile(),
        kinds.toll_free(),
        kinds.premium_rate(),
        kinds.shared_cost(),
        kinds.personal_number(),
        kinds.voip(),
        kinds.pager(),
        kinds.uan(),
        kinds.voicemail(),
    ];
    matches(kinds.general(), national)
        && types
            .into_iter()
            .flatten()
            .any(|kind| matches(kind, national))
}

/// libphonenumber's `isNumberMatchingDesc`: one of the descriptor's possible lengths (when it
/// names any), and its pattern matching the whole number.
fn matches(descriptor: &Descriptor, national: &str) -> bool {
    let lengths = descriptor.possible_length();
    (lengths.is_empty() || u16::try_from(national.len()).is_ok_and(|len| lengths.contains(&len)))
        && whole_match(descriptor.national_number().as_str(), national)
}

/// The search cache each of libphonenumber's patterns may keep.
const PATTERN_CACHE_BYTES: usize = 64 * 1024;

/// `pattern` anchored at both ends, compiled once per pattern (a few hundred in all). Numbers
/// are short: a small search cache per pattern serves them (the default lets each grow to
/// megabytes across a day's numbers).
fn whole_match(pattern: &str, text: &str) -> bool {
    static ANCHORED: LazyLock<Mutex<HashMap<String, Option<Regex>>>> =
        LazyLock::new(Default::default);
    let mut cache = ANCHORED.lock().unwrap_or_else(PoisonError::into_inner);
    cache
        .entry(pattern.to_string())
        .or_insert_with(|| {
            RegexBuilder::new(&format!("^(?x:{pattern})$"))
                .dfa_size_limit(PATTERN_CACHE_BYTES)
                .build()
                .ok()
        })
        .as_ref()
        .is_some_and(|regex| regex.is_match(text))
}

/// The normalised phone of a lead: what is stored beside the raw value. `None` raw → nothing.
pub fn stored(raw: Option<&str>, default_region: Option<Region>) -> (Option<String>, bool) {
    match raw {
        None => (None, false),
        Some(raw) => {
            let phone = normalize(raw, default_region);
            let invalid = !phone.valid();
            (phone.e164, invalid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Option<Region> {
        Some("US".parse().unwrap())
    }

    #[test]
    fn a_national_number_takes_the_default_region() {
        let phone = normalize("(650) 253-0000", us());
        assert_eq!(phone.e164.as_deref(), Some("+16502530000"));
        assert_eq!(phone.international.as_deref(), Some("+1 650-253-0000"));
        let german = normalize("030 123456", Some("de".parse().unwrap()));
        assert_eq!(german.e164.as_deref(), Some("+4930123456"));
    }

    #[test]
    fn an_e164_number_names_its_region() {
        assert_eq!(region_of("+16502530000").as_deref(), Some("US"));
        assert_eq!(
            region_of("+14165550123").as_deref(),
            Some("CA"),
            "+1 shared by US and CA"
        );
        assert_eq!(region_of("+4930123456").as_deref(), Some("DE"));
        assert_eq!(region_of("+61291234567").as_deref(), Some("AU"));
        assert_eq!(region_of("4930123456"), None, "not E.164");
        assert_eq!(region_of("<test lead: dummy data for phone_number>"), None);
    }

    #[test]
    fn without_a_region_only_international_numbers_parse() {
        assert_eq!(normalize("650 253 0000", None).e164, None);
        assert_eq!(
            normalize("+44 20 7946 0958", None).e164.as_deref(),
            Some("+442079460958")
        );
    }

    #[test]
    fn metas_test_lead_placeholder_is_not_a_number() {
        let phone = normalize("<test lead: dummy data for phone_number>", us());
        assert!(!phone.valid());
        assert_eq!(
            stored(Some("<test lead: dummy data for phone_number>"), us()),
            (None, true)
        );
        assert_eq!(stored(None, us()), (None, false));
    }

    #[test]
    fn a_number_that_parses_but_does_not_exist_is_not_valid() {
        assert_eq!(normalize("+1 555 555 5555", None).e164, None);
        assert_eq!(normalize("12", us()).e164, None);
    }

    #[test]
    fn regions_are_two_letter_codes_libphonenumber_knows() {
        assert_eq!("gb".parse::<Region>().unwrap().to_string(), "GB");
        for bad in ["", "USA", "XX", "1", "U$"] {
            assert!(bad.parse::<Region>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn international_shows_a_stored_e164() {
        assert_eq!(
            international("+4930123456").as_deref(),
            Some("+49 30 123456")
        );
        assert_eq!(international("not a number"), None);
        assert_eq!(international("030 123456"), None, "E.164 only");
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_without_panicking(raw in "\\PC{0,40}", digits in "[+0-9 ()-]{0,30}") {
            let _ = normalize(&raw, us());
            let _ = normalize(&digits, us());
            let _ = normalize(&digits, None);
        }
    }
}
