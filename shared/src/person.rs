//! Who a lead's person is: what two submissions must share to be the same person. The phone is
//! matched in E.164 ([`crate::phone`]); the e-mail by [`email_key`]. The stores link a new lead to
//! the newest lead in the duplicate window with the same phone, else the same e-mail key.

/// The e-mail as people are matched on it: trimmed and lower-cased, when it is a plausible address
/// (see [`is_plausible_email`]); `None` otherwise, so a typo never makes two people one.
pub fn email_key(email: Option<&str>) -> Option<String> {
    let email = email?.trim();
    is_plausible_email(email).then(|| email.to_lowercase())
}

/// Whether `email` could reach someone: a valid address (RFC 5321/5322, by the `email_address`
/// crate) whose domain has a dot, like every address on the public internet.
pub fn is_plausible_email(email: &str) -> bool {
    let email = email.trim();
    email_address::EmailAddress::parse_with_options(email, email_address::Options::default())
        .is_ok_and(|address| {
            let domain = address.domain();
            domain
                .rsplit_once('.')
                .is_some_and(|(name, tld)| !name.is_empty() && tld.len() >= 2)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_key_is_trimmed_and_lower_cased() {
        assert_eq!(
            email_key(Some("  Jane.Doe@Example.COM ")).as_deref(),
            Some("jane.doe@example.com")
        );
        assert_eq!(
            email_key(Some("ÉLODIE@exemple.fr")).as_deref(),
            Some("élodie@exemple.fr")
        );
    }

    #[test]
    fn only_plausible_addresses_get_a_key() {
        for nothing in [
            "",
            "   ",
            "jane",
            "jane@",
            "@example.com",
            "jane@localhost",
            "jane doe@example.com",
            "jane@example.c",
        ] {
            assert_eq!(email_key(Some(nothing)), None, "{nothing:?}");
        }
        assert_eq!(email_key(None), None);
        assert!(is_plausible_email("a.b+leads@mail.example.co.uk"));
    }
}
