//! Realistic Lead Ads leads from a seed: accented names, emails, phone numbers, three forms with
//! custom questions, organic and ad leads from Facebook and Instagram. The same seed and times give
//! the same leads, so tests and demos are reproducible.

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Serialize, Serializer};

mod ads;
pub mod history;
mod people;

use ads::{ADS, GIVEAWAY};
pub use history::{PastMonth, past_month};
use people::{JOB_TITLES, Person};

/// The simulated Facebook Page, when none is given.
pub const DEFAULT_PAGE_ID: &str = "104729385610283";
pub const DEFAULT_PAGE_NAME: &str = "Sunny Roofs Solar";

/// A lead form of the simulated page.
#[derive(Debug)]
pub struct FormSpec {
    pub id: &'static str,
    pub name: &'static str,
    questions: &'static [Question],
}

#[derive(Debug)]
enum Question {
    FullName,
    FirstAndLastName,
    Email,
    WorkEmail,
    PhoneNumber,
    CityAndZipCode,
    CompanyName,
    JobTitle,
    /// Multiple choice: one value, or several when `several` is set.
    Choice {
        name: &'static str,
        options: &'static [&'static str],
        several: bool,
    },
    /// Optional free text: sometimes left empty (`"values": []`).
    FreeText {
        name: &'static str,
        answers: &'static [&'static str],
    },
    Disclaimer {
        checkbox_key: &'static str,
    },
}

pub const FORMS: &[FormSpec] = &[
    FormSpec {
        id: "781234567890123",
        name: "Spring Promo",
        questions: &[
            Question::FullName,
            Question::Email,
            Question::PhoneNumber,
            Question::Choice {
                name: "which_products_are_you_interested_in?",
                options: &["Solar panels", "Battery storage", "Heat pump", "EV charger"],
                several: true,
            },
            Question::Disclaimer {
                checkbox_key: "marketing_optin",
            },
        ],
    },
    FormSpec {
        id: "781234567890456",
        name: "Free Quote",
        questions: &[
            Question::FirstAndLastName,
            Question::Email,
            Question::PhoneNumber,
            Question::CityAndZipCode,
            Question::Choice {
                name: "budget",
                options: &["Under €5,000", "€5,000–€15,000", "Over €15,000"],
                several: false,
            },
            Question::Choice {
                name: "when_would_you_like_to_start?",
                options: &["As soon as possible", "Within 3 months", "Just researching"],
                several: false,
            },
            Question::FreeText {
                name: "tell_us_about_your_project",
                answers: &[
                    "Toit orienté sud, environ 40 m²",
                    "We'd like a quote before the summer — the roof is ~30 m².",
                    "Brauchen wir eine Genehmigung für die Dachfläche?",
                    "Necesito presupuesto para una casa en Córdoba 🙂",
                    "Please call after 5pm",
                ],
            },
        ],
    },
    FormSpec {
        id: "781234567890789",
        name: "Webinar Signup",
        questions: &[
            Question::FullName,
            Question::WorkEmail,
            Question::CompanyName,
            Question::JobTitle,
            Question::PhoneNumber,
            Question::Choice {
                name: "what_topics_interest_you?",
                options: &["Pricing", "Installation", "Financing", "Maintenance"],
                several: true,
            },
        ],
    },
];

/// A lead in the Graph API shape (`GET /<version>/<leadgen_id>`); `page_id` and `form_name` are not
/// part of that shape (the webhook and the form list carry them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FakeLead {
    pub id: String,
    #[serde(rename = "created_time", serialize_with = "meta_time")]
    pub created_at: DateTime<Utc>,
    pub field_data: Vec<FieldAnswer>,
    #[serde(flatten)]
    pub ad: Option<AdPlacement>,
    pub form_id: String,
    pub is_organic: bool,
    /// `fb` or `ig`.
    pub platform: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_disclaimer_responses: Vec<DisclaimerResponse>,
    #[serde(skip)]
    pub page_id: String,
    #[serde(skip)]
    pub form_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldAnswer {
    pub name: String,
    pub values: Vec<String>,
}

/// The ad a lead came from; organic leads have none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdPlacement {
    pub ad_id: String,
    pub ad_name: String,
    pub adset_id: String,
    pub adset_name: String,
    pub campaign_id: String,
    pub campaign_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisclaimerResponse {
    pub checkbox_key: String,
    /// Meta writes `"1"` for a ticked box and `""` otherwise.
    pub is_checked: String,
}

impl FakeLead {
    /// The lead as the Graph API serves it.
    pub fn graph_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a fake lead has only string keys and plain values")
    }

    /// `full_name`, else first and last name, else the lead id.
    pub fn display_name(&self) -> String {
        let answer = |name: &str| {
            self.field_data
                .iter()
                .find(|field| field.name == name)
                .map(|field| field.values.join(" "))
                .filter(|text| !text.is_empty())
        };
        answer("full_name")
            .or_else(|| {
                let parts: Vec<String> = [answer("first_name"), answer("last_name")]
                    .into_iter()
                    .flatten()
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
            .unwrap_or_else(|| format!("lead {}", self.id))
    }

    /// The same person submitting again: their name, e-mail and phone as `earlier` gave them,
    /// wherever this lead's form asks for them (the other answers stay this form's).
    pub fn submitted_again_by(&mut self, earlier: &FakeLead) {
        const WHO: [&str; 6] = [
            "full_name",
            "first_name",
            "last_name",
            "email",
            "work_email",
            "phone_number",
        ];
        for field in &mut self.field_data {
            if let Some(theirs) = earlier
                .field_data
                .iter()
                .find(|their| their.name == field.name && WHO.contains(&field.name.as_str()))
            {
                field.values = theirs.values.clone();
            }
        }
    }

    /// What Meta's Lead Ads Testing Tool makes of this lead: every answer a placeholder like
    /// `<test lead: dummy data for full_name>`, the e-mail `test@fb.com`, no ad.
    pub fn into_meta_test_lead(mut self) -> FakeLead {
        for field in &mut self.field_data {
            let value = if field.name == "email" {
                TEST_LEAD_EMAIL.to_string()
            } else {
                test_lead_placeholder(&field.name)
            };
            field.values = vec![value];
        }
        self.ad = None;
        self.is_organic = true;
        self
    }

    /// Replaces the answer to `name`, or adds the question when the form did not ask it.
    pub fn set_answer(&mut self, name: &str, values: Vec<String>) {
        match self.field_data.iter_mut().find(|field| field.name == name) {
            Some(field) => field.values = values,
            None => self.field_data.push(FieldAnswer {
                name: name.to_string(),
                values,
            }),
        }
    }
}

/// The e-mail of Meta's test leads.
pub const TEST_LEAD_EMAIL: &str = "test@fb.com";

/// Every ad the simulated page runs, with its ad set and campaign: those new leads come from,
/// and the giveaway of the past month ([`past_month`]).
pub fn ad_placements() -> impl Iterator<Item = AdPlacement> {
    ADS.iter().chain([&GIVEAWAY]).map(|ad| ad.placement())
}

/// What Meta's Lead Ads Testing Tool puts in field `name` of a test lead.
pub fn test_lead_placeholder(name: &str) -> String {
    format!("<test lead: dummy data for {name}>")
}

fn meta_time<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&time.format("%Y-%m-%dT%H:%M:%S%z"))
}

/// Generates leads for one page from a seed.
#[derive(Debug, Clone)]
pub struct LeadFaker {
    rng: StdRng,
    page_id: String,
}

impl LeadFaker {
    pub fn new(seed: u64) -> LeadFaker {
        LeadFaker {
            rng: StdRng::seed_from_u64(seed),
            page_id: DEFAULT_PAGE_ID.to_string(),
        }
    }

    pub fn on_page(mut self, page_id: impl Into<String>) -> LeadFaker {
        self.page_id = page_id.into();
        self
    }

    /// The next lead, submitted at `created_at`.
    pub fn next_lead(&mut self, created_at: DateTime<Utc>) -> FakeLead {
        let rng = &mut self.rng;
        let form = pick(rng, FORMS);
        let person = Person::random(rng);
        let field_data = form
            .questions
            .iter()
            .flat_map(|question| question.answers(&person, rng))
            .collect();
        let custom_disclaimer_responses = form
            .questions
            .iter()
            .filter_map(|question| match question {
                Question::Disclaimer { checkbox_key } => Some(DisclaimerResponse {
                    checkbox_key: checkbox_key.to_string(),
                    is_checked: if rng.random_bool(0.7) { "1" } else { "" }.to_string(),
                }),
                _ => None,
            })
            .collect();
        let ad = (!rng.random_bool(0.25)).then(|| pick(rng, ADS).placement());
        FakeLead {
            id: rng
                .random_range(1_000_000_000_000_000_u64..10_000_000_000_000_000)
                .to_string(),
            created_at,
            field_data,
            is_organic: ad.is_none(),
            ad,
            form_id: form.id.to_string(),
            platform: if rng.random_bool(0.6) { "fb" } else { "ig" }.to_string(),
            custom_disclaimer_responses,
            page_id: self.page_id.clone(),
            form_name: form.name.to_string(),
        }
    }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(..items.len())]
}

impl Question {
    /// The answers to this question (two fields for name and place questions); none for the
    /// disclaimer, which Meta reports apart.
    fn answers(&self, person: &Person, rng: &mut StdRng) -> Vec<FieldAnswer> {
        let one = |name: &str, value: String| FieldAnswer {
            name: name.to_string(),
            values: vec![value],
        };
        match self {
            Question::FullName => vec![one("full_name", person.full_name())],
            Question::FirstAndLastName => vec![
                one("first_name", person.first.to_string()),
                one("last_name", person.last.to_string()),
            ],
            Question::Email => vec![one("email", person.email.clone())],
            Question::WorkEmail => vec![one("work_email", person.work_email.clone())],
            Question::PhoneNumber => vec![one("phone_number", person.phone.clone())],
            Question::CityAndZipCode => vec![
                one("city", person.city.to_string()),
                one("zip_code", person.zip_code.to_string()),
            ],
            Question::CompanyName => vec![one("company_name", person.company.to_string())],
            Question::JobTitle => vec![one("job_title", pick(rng, JOB_TITLES).to_string())],
            Question::Choice {
                name,
                options,
                several,
            } => {
                let mut values: Vec<String> = if *several {
                    options
                        .iter()
                        .filter(|_| rng.random_bool(0.4))
                        .map(|option| option.to_string())
                        .collect()
                } else {
                    Vec::new()
                };
                if values.is_empty() {
                    values.push(pick(rng, options).to_string());
                }
                vec![FieldAnswer {
                    name: name.to_string(),
                    values,
                }]
            }
            Question::FreeText { name, answers } => {
                let values = if rng.random_bool(0.3) {
                    Vec::new()
                } else {
                    vec![pick(rng, answers).to_string()]
                };
                vec![FieldAnswer {
                    name: name.to_string(),
                    values,
                }]
            }
            Question::Disclaimer { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use leadhook_shared::Answer;
    use leadhook_shared::meta::{GraphLead, parse_graph_lead};

    use super::people::{LOCALES, ascii_fold};
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_740_000_000 + seconds, 0).unwrap()
    }

    fn answer<'a>(lead: &'a FakeLead, name: &str) -> Option<&'a [String]> {
        lead.field_data
            .iter()
            .find(|field| field.name == name)
            .map(|field| &field.values[..])
    }

    #[test]
    fn a_returning_person_brings_their_name_email_and_phone() {
        let mut faker = LeadFaker::new(7);
        let first = faker.next_lead(at(0));
        let mut again = faker.next_lead(at(60));
        again.submitted_again_by(&first);
        for name in ["email", "phone_number"] {
            if answer(&again, name).is_some() && answer(&first, name).is_some() {
                assert_eq!(answer(&again, name), answer(&first, name), "{name}");
            }
        }
        assert_ne!(again.id, first.id, "a new lead");
        assert!(
            ["email", "phone_number"]
                .iter()
                .any(|name| answer(&again, name).is_some()
                    && answer(&again, name) == answer(&first, name)),
            "something to match the person on"
        );
    }

    #[test]
    fn a_meta_test_lead_is_placeholders_and_metas_email() {
        let lead = LeadFaker::new(7).next_lead(at(0)).into_meta_test_lead();
        assert_eq!(
            answer(&lead, "email"),
            Some(&[TEST_LEAD_EMAIL.to_string()][..])
        );
        let name = lead.display_name();
        assert!(name.starts_with("<test lead: dummy data for "), "{name}");
        assert!(lead.ad.is_none() && lead.is_organic);
    }

    fn leads(seed: u64, count: i64) -> Vec<FakeLead> {
        let mut faker = LeadFaker::new(seed);
        (0..count).map(|n| faker.next_lead(at(n))).collect()
    }

    #[test]
    fn same_seed_same_leads() {
        assert_eq!(leads(7, 20), leads(7, 20));
        assert_ne!(leads(7, 20), leads(8, 20));
    }

    #[test]
    fn graph_json_has_meta_shape() {
        let lead = &leads(1, 1)[0];
        let json = lead.graph_json();
        assert_eq!(json["id"], lead.id.as_str());
        assert_eq!(json["created_time"], "2025-02-19T21:20:00+0000");
        assert_eq!(json["form_id"], lead.form_id.as_str());
        assert!(json["field_data"][0]["values"].is_array());
        assert!(json.get("page_id").is_none() && json.get("form_name").is_none());
    }

    #[test]
    fn leads_parse_into_what_the_server_stores() {
        for lead in leads(3, 200) {
            let graph =
                GraphLead::from_json(&serde_json::to_vec(&lead.graph_json()).unwrap()).unwrap();
            let parsed = parse_graph_lead(graph, Utc::now()).unwrap();
            assert_eq!(parsed.leadgen_id, lead.id);
            assert_eq!(parsed.meta.created_at, lead.created_at);
            assert_eq!(
                parsed.meta.name.as_deref(),
                Some(lead.display_name().as_str())
            );
            assert!(
                parsed
                    .meta
                    .email
                    .is_some_and(|email| email.is_ascii() && email.contains('@'))
            );
            assert!(
                parsed
                    .meta
                    .phone
                    .is_some_and(|phone| phone.starts_with('+'))
            );
            assert_eq!(parsed.meta.is_organic, lead.ad.is_none());
            assert_eq!(parsed.meta.ad_id.is_some(), lead.ad.is_some());
        }
    }

    #[test]
    fn covers_the_variety_the_server_must_handle() {
        let all = leads(11, 300);
        let has = |test: &dyn Fn(&FakeLead) -> bool| all.iter().any(test);
        for form in FORMS {
            assert!(has(
                &|lead| lead.form_name == form.name && lead.form_id == form.id
            ));
        }
        assert!(has(&|lead| lead.is_organic) && has(&|lead| !lead.is_organic));
        assert!(has(&|lead| lead.platform == "fb") && has(&|lead| lead.platform == "ig"));
        assert!(has(&|lead| !lead.display_name().is_ascii()));
        assert!(has(&|lead| lead
            .field_data
            .iter()
            .any(|field| field.values.len() > 1)));
        assert!(has(&|lead| lead
            .field_data
            .iter()
            .any(|field| field.values.is_empty())));
        assert!(has(&|lead| !lead.custom_disclaimer_responses.is_empty()));
        assert!(has(&|lead| lead
            .field_data
            .iter()
            .any(|field| field.name == "first_name")));
    }

    #[test]
    fn set_answer_replaces_or_adds() {
        let mut lead = leads(5, 1).remove(0);
        lead.set_answer("full_name", vec!["Zoë Brontë".into()]);
        lead.set_answer("first_name", vec!["Zoë".into()]);
        lead.set_answer("favourite_colour", vec!["vert".into(), "bleu".into()]);
        let graph = GraphLead::from_json(&serde_json::to_vec(&lead.graph_json()).unwrap()).unwrap();
        let parsed = parse_graph_lead(graph, Utc::now()).unwrap();
        assert_eq!(
            parsed.meta.fields["favourite_colour"],
            Answer::Many(vec!["vert".into(), "bleu".into()])
        );
        assert_eq!(lead.display_name(), parsed.meta.name.unwrap());
    }

    #[test]
    fn ascii_fold_covers_the_names_used() {
        assert_eq!(ascii_fold("Łukasz Ødegaard-Groß"), "lukaszodegaardgross");
        for locale in LOCALES {
            for name in locale.first_names.iter().chain(locale.last_names) {
                assert!(!ascii_fold(name).is_empty(), "{name}");
                assert_eq!(
                    ascii_fold(name).chars().count(),
                    name.chars().filter(|c| c.is_alphanumeric()).count()
                        + name.matches('ß').count(),
                    "{name}"
                );
            }
        }
    }
}
