//! How the manager's figures read, on the insights screen and in `leadhook report` alike:
//! shares, speeds, amounts, why there is no cost, and what to do when the server refuses.

use leadhook_shared::insights::{Funnel, SpendStatus};
use leadhook_shared::{Grouping, Insights};

use crate::client_error::ClientError;
use crate::sanitize;

/// `count` as a whole percentage of the funnel's leads: "42%", or "–" without leads.
pub fn percent(funnel: &Funnel, count: u64) -> String {
    funnel
        .share(count)
        .map_or_else(|| "–".to_string(), |share| format!("{:.0}%", share * 100.0))
}

/// A speed to lead in at most two units: "45s", "4m30s", "3h20m", "2d4h"; "–" without one.
pub fn speed(secs: Option<u64>) -> String {
    let Some(secs) = secs else {
        return "–".to_string();
    };
    match secs {
        0..60 => format!("{secs}s"),
        60..600 if secs % 60 != 0 => format!("{}m{:02}s", secs / 60, secs % 60),
        60..3_600 => format!("{}m", secs / 60),
        3_600..86_400 => format!("{}h{:02}m", secs / 3_600, secs % 3_600 / 60),
        _ => format!("{}d{}h", secs / 86_400, secs % 86_400 / 3_600),
    }
}

/// An amount with two decimals and thousands separated: "1,234.50"; "–" without one.
pub fn money(amount: Option<f64>) -> String {
    let Some(amount) = amount else {
        return "–".to_string();
    };
    let cents = (amount * 100.0).round() as i64;
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = crate::ui::thousands(usize::try_from(cents / 100).unwrap_or(usize::MAX));
    format!("{sign}{whole}.{:02}", cents % 100)
}

/// The grouping as the figures name it ("campaign"), from the answer's `by`.
pub fn grouping_of(insights: &Insights) -> Option<Grouping> {
    insights.by.parse().ok()
}

/// What the spend status says: "cost in EUR", or why there is no cost.
pub fn spend_note(spend: &SpendStatus, grouping: Option<&Grouping>) -> String {
    match spend {
        SpendStatus::Read { currency, .. } => match currency {
            Some(currency) => format!("cost in {}", sanitize::screen(currency)),
            None => "cost in the ad account's currency".to_string(),
        },
        SpendStatus::Off => "no cost: no ad account set (FB_AD_ACCOUNT_ID)".to_string(),
        SpendStatus::NotForGrouping => match grouping {
            Some(grouping) => format!("no cost by {}", grouping.heading().to_lowercase()),
            None => "no cost for this grouping".to_string(),
        },
        SpendStatus::Unavailable { reason } => {
            format!("no cost: Meta did not say ({})", sanitize::screen(reason))
        }
    }
}

/// What to tell a user whose request for the figures failed, with what to do next.
pub fn failure(error: &ClientError) -> String {
    match error {
        ClientError::Rejected { code, message } if code == "forbidden" => format!(
            "The insights are for managers and admins (the server said: {}). Ask an admin for \
             the manager role: leadhook-server reps set-role <you> manager.",
            sanitize::screen(message).trim_end_matches('.')
        ),
        ClientError::NotFound(_) => {
            "This server has no insights (GET /api/insights): update leadhook-server.".to_string()
        }
        other => sanitize::screen(&other.to_string()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_read_in_two_units_at_most() {
        let cases = [
            (None, "–"),
            (Some(45), "45s"),
            (Some(60), "1m"),
            (Some(270), "4m30s"),
            (Some(2_700), "45m"),
            (Some(12_000), "3h20m"),
            (Some(187_200), "2d4h"),
        ];
        for (secs, text) in cases {
            assert_eq!(speed(secs), text, "{secs:?}");
        }
    }

    #[test]
    fn shares_and_amounts() {
        let funnel = Funnel {
            leads: 3,
            ..Funnel::default()
        };
        assert_eq!(percent(&funnel, 2), "67%");
        assert_eq!(percent(&Funnel::default(), 0), "–");
        assert_eq!(money(Some(1234.5)), "1,234.50");
        assert_eq!(money(Some(0.129)), "0.13");
        assert_eq!(money(None), "–");
    }

    #[test]
    fn a_refusal_says_who_may_and_what_to_do() {
        let refused = ClientError::Rejected {
            code: "forbidden".into(),
            message: "your role (rep) may not see the insights: that needs the manager role".into(),
        };
        let text = failure(&refused);
        assert!(
            text.starts_with("The insights are for managers and admins"),
            "{text}"
        );
        assert!(text.contains("set-role"), "{text}");
        let old = failure(&ClientError::NotFound("no such endpoint".into()));
        assert!(old.contains("update leadhook-server"), "{old}");
    }

    #[test]
    fn why_there_is_no_cost() {
        let by_form = spend_note(&SpendStatus::NotForGrouping, Some(&Grouping::Form));
        assert_eq!(by_form, "no cost by form");
        let read = SpendStatus::Read {
            currency: Some("EUR\u{1b}[2J".into()),
            read_at: chrono::DateTime::UNIX_EPOCH,
        };
        assert_eq!(spend_note(&read, None), "cost in EUR[2J");
        let off = spend_note(&SpendStatus::Off, None);
        assert!(off.contains("FB_AD_ACCOUNT_ID"), "{off}");
    }
}
