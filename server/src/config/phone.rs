//! `LEADHOOK_DEFAULT_REGION` and `LEADHOOK_PAGE_REGIONS`: the region a lead's phone number is read
//! in when it has no country code.

use std::collections::HashMap;

use leadhook_shared::Region;

use super::ConfigError;

/// Which region each page's national numbers belong to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneRegions {
    /// `LEADHOOK_DEFAULT_REGION`; without it only numbers with `+` are read.
    pub default: Option<Region>,
    /// `LEADHOOK_PAGE_REGIONS`: a page's own region, before the default.
    pub pages: HashMap<String, Region>,
}

impl PhoneRegions {
    /// The region a lead from `page_id` (none for a manual lead) is read in.
    pub fn for_page(&self, page_id: Option<&str>) -> Option<Region> {
        page_id
            .and_then(|page| self.pages.get(page).copied())
            .or(self.default)
    }
}

pub(super) fn parse_phone_regions(
    default: Option<String>,
    pages: Option<String>,
) -> Result<PhoneRegions, ConfigError> {
    let default = match default.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => Some(
            code.parse()
                .map_err(|error: leadhook_shared::UnknownRegion| {
                    ConfigError::invalid("LEADHOOK_DEFAULT_REGION", error.to_string())
                })?,
        ),
    };
    let mut regions = HashMap::new();
    for entry in pages.as_deref().unwrap_or("").split(',').map(str::trim) {
        if entry.is_empty() {
            continue;
        }
        let invalid = |problem: String| ConfigError::invalid("LEADHOOK_PAGE_REGIONS", problem);
        let Some((page, code)) = entry.split_once(':') else {
            return Err(invalid(format!(
                "\"{entry}\" is not page_id:REGION, like 153125381133:DE"
            )));
        };
        let page = page.trim();
        if page.is_empty() || !page.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(format!("\"{page}\" is not a page id (digits)")));
        }
        let region = code
            .parse()
            .map_err(|error: leadhook_shared::UnknownRegion| invalid(error.to_string()))?;
        regions.insert(page.to_string(), region);
    }
    Ok(PhoneRegions {
        default,
        pages: regions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_region_comes_before_the_default() {
        let regions =
            parse_phone_regions(Some("us".into()), Some("153125381133:DE, 42:gb".into())).unwrap();
        let de = "DE".parse().ok();
        assert_eq!(regions.for_page(Some("153125381133")), de);
        assert_eq!(regions.for_page(Some("42")), "GB".parse().ok());
        assert_eq!(regions.for_page(Some("7")), "US".parse().ok());
        assert_eq!(regions.for_page(None), "US".parse().ok());
        assert_eq!(PhoneRegions::default().for_page(Some("42")), None);
    }

    #[test]
    fn a_bad_code_is_an_error_naming_it() {
        let error = parse_phone_regions(Some("USA".into()), None).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("LEADHOOK_DEFAULT_REGION") && text.contains("USA"),
            "{text}"
        );
        let error = parse_phone_regions(None, Some("153125381133:XX".into())).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("LEADHOOK_PAGE_REGIONS") && text.contains("XX"),
            "{text}"
        );
        assert!(parse_phone_regions(None, Some("DE".into())).is_err());
    }
}
