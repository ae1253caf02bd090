//! `shared::phone` agrees with libphonenumber itself: `fixtures/phones/phones.json` holds the
//! Python port's answers (see `generate.py` beside it) at the metadata version the `phonenumber`
//! crate carries.

use leadhook_shared::phone::{self, METADATA_VERSION, Region};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    phonenumbers_version: String,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
struct Row {
    raw: String,
    region: Option<String>,
    note: String,
    e164: Option<String>,
    international: Option<String>,
    valid: bool,
}

#[test]
fn normalisation_agrees_with_libphonenumber() {
    let text = include_str!("../fixtures/phones/phones.json");
    let fixture: Fixture = serde_json::from_str(text).expect("the fixture is JSON");
    assert_eq!(fixture.phonenumbers_version, METADATA_VERSION);
    let regions: std::collections::BTreeSet<_> = fixture
        .rows
        .iter()
        .filter_map(|row| row.region.clone())
        .collect();
    assert!(fixture.rows.len() >= 200 && regions.len() >= 20);
    assert!(fixture.rows.iter().any(|row| row.valid) && fixture.rows.iter().any(|row| !row.valid));

    let disagreements: Vec<String> = fixture
        .rows
        .iter()
        .filter_map(|row| {
            let region: Option<Region> = row
                .region
                .as_deref()
                .map(|code| code.parse().expect("the fixture's regions are known"));
            let ours = phone::normalize(&row.raw, region);
            let agrees = ours.valid() == row.valid
                && ours.e164 == row.e164
                && ours.international == row.international;
            (!agrees).then(|| {
                format!(
                    "{:?} in {:?} ({}): libphonenumber {:?} {:?}, ours {:?} {:?}",
                    row.raw,
                    row.region,
                    row.note,
                    row.e164,
                    row.international,
                    ours.e164,
                    ours.international
                )
            })
        })
        .collect();
    assert!(
        disagreements.is_empty(),
        "{} of {} rows disagree:\n{}",
        disagreements.len(),
        fixture.rows.len(),
        disagreements.join("\n")
    );
}
