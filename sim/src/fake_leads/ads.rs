//! The ads the simulated page runs, which ad leads come from.

use super::AdPlacement;

/// Ads the simulated page runs: `(campaign, ad set, ad)` as `(id, name)` pairs.
pub(super) struct Ad {
    campaign: (&'static str, &'static str),
    adset: (&'static str, &'static str),
    pub(super) ad: (&'static str, &'static str),
}

pub(super) const ADS: &[Ad] = &[
    Ad {
        campaign: ("120210000000000100", "Spring Sale 2025"),
        adset: ("120210000000000110", "Lookalike 1% – ages 30-55"),
        ad: ("120210000000000111", "Carousel ☀️ rooftops"),
    },
    Ad {
        campaign: ("120210000000000100", "Spring Sale 2025"),
        adset: ("120210000000000120", "Homeowners – Île-de-France"),
        ad: ("120210000000000121", "Vidéo témoignage"),
    },
    Ad {
        campaign: ("120210000000000200", "Always-on Quotes"),
        adset: ("120210000000000210", "Retargeting – site visitors"),
        ad: ("120210000000000211", "Free quote – static"),
    },
    Ad {
        campaign: ("120210000000000300", "Webinar: Solar 101"),
        adset: ("120210000000000310", "B2B – facility managers"),
        ad: ("120210000000000311", "Register now"),
    },
];

/// A campaign only the past month ([`super::history`]) runs, kept out of [`ADS`] so the leads of
/// every seed elsewhere stay as they were: a giveaway that brings many cheap leads, few of whom
/// meant to buy.
pub(super) const GIVEAWAY: Ad = Ad {
    campaign: ("120210000000000400", "Summer Giveaway"),
    adset: ("120210000000000410", "Broad – ages 18-65"),
    ad: ("120210000000000411", "Win a home battery 🎁"),
};

impl Ad {
    pub(super) fn placement(&self) -> AdPlacement {
        AdPlacement {
            ad_id: self.ad.0.to_string(),
            ad_name: self.ad.1.to_string(),
            adset_id: self.adset.0.to_string(),
            adset_name: self.adset.1.to_string(),
            campaign_id: self.campaign.0.to_string(),
            campaign_name: self.campaign.1.to_string(),
        }
    }
}
