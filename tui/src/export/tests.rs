//! The CSV file: its columns, neutralised cells, private and never overwriting.

use super::*;
use crate::fixtures::{lead, now};

fn write_csv(path: &Path, leads: &[Lead]) -> Result<usize, ExportError> {
    write_csv_with(path, leads, AnswerColumns::default())
}

fn write_csv_with(
    path: &Path,
    leads: &[Lead],
    columns: AnswerColumns,
) -> Result<usize, ExportError> {
    let mut file = CsvFile::create(path, columns)?;
    for lead in leads {
        file.write(lead)?;
    }
    file.finish()
}

#[test]
fn writes_a_header_and_one_quoted_row_per_lead() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_for(dir.path(), now(), FixedOffset::east_opt(0).unwrap());
    assert!(path.ends_with("leadhook-20260310-150000.csv"));
    let mut jane = lead(7, "Jane Doe", 0);
    jane.notes = Some("called, \"call back\" Friday\nafter 5".into());
    jane.owner = Some("alice".into());
    jane.first_contact_at = Some(jane.meta.created_at + chrono::Duration::seconds(95));
    assert_eq!(write_csv(&path, &[jane, lead(8, "Bob", 1)]).unwrap(), 2);

    let mut reader = csv::Reader::from_path(&path).unwrap();
    assert_eq!(reader.headers().unwrap(), COLUMNS.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][3], "Jane Doe");
    assert_eq!(&rows[0][12], "called, \"call back\" Friday\nafter 5");
    assert!(rows[0][11].contains("interested_in: Solar panels, Battery"));
    assert_eq!(&rows[0][13], "alice");
    assert_eq!(&rows[0][14], "2026-03-10T15:01:35+00:00");
    assert_eq!(&rows[0][15], "95");
    // Bob is unowned and not contacted yet.
    assert_eq!([&rows[1][13], &rows[1][14], &rows[1][15]], ["", "", ""]);
}

/// What a dialer or a CRM import needs: the phone in E.164 beside the raw one, and the
/// follow-up state.
#[test]
fn the_e164_phone_and_the_follow_up_are_exported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    let mut jane = lead(7, "Jane Doe", 0);
    jane.meta.phone = Some("030 1234567".into());
    jane.meta.phone_e164 = Some("+49301234567".into());
    jane.attempts = 2;
    jane.next_step = Some(leadhook_shared::NextStep {
        at: "2026-03-11T09:00:00Z".parse().unwrap(),
        what: "Send the quote".into(),
    });
    write_csv(&path, &[jane, lead(8, "Bob", 1)]).unwrap();
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cell = |row: usize, column: &str| {
        let at = header.iter().position(|name| name == column).unwrap();
        rows[row][at].to_string()
    };
    assert_eq!(cell(0, "phone"), "030 1234567");
    assert_eq!(cell(0, "phone_e164"), "'+49301234567");
    assert_eq!(cell(0, "attempts"), "2");
    assert_eq!(cell(0, "next_step_at"), "2026-03-11T09:00:00+00:00");
    assert_eq!(cell(0, "next_step"), "Send the quote");
    assert_eq!(
        [
            cell(1, "phone_e164"),
            cell(1, "next_step_at"),
            cell(1, "next_step")
        ],
        ["", "", ""]
    );
}

/// A spreadsheet groups a person's submissions by `person` (their first lead's id) and can
/// filter junk out by its reason.
#[test]
fn the_person_and_the_junk_reason_are_exported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    let first = lead(7, "Jane Doe", 0);
    let mut again = lead(9, "Jane Doe", 1);
    again.repeat_of = Some(7);
    let mut junk = lead(10, "Nobody", 2);
    junk.meta.junk_reason = Some("=Meta test lead".into());
    write_csv(&path, &[first, again, junk]).unwrap();
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let column = |name: &str| header.iter().position(|column| column == name).unwrap();
    let people: Vec<&str> = rows.iter().map(|row| &row[column("person")]).collect();
    assert_eq!(people, ["7", "7", "10"]);
    assert_eq!(&rows[0][column("junk")], "");
    assert_eq!(
        &rows[2][column("junk")],
        "'=Meta test lead",
        "neutralised like every cell"
    );
}

/// Each answer column is a CSV column after the fixed ones, headed by its name, each answer
/// read with the question of the lead's form and neutralised like every cell.
#[test]
fn answer_columns_follow_the_fixed_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    let columns =
        AnswerColumns::parse("budget=what_is_your_budget?,2002:zip=postcode,zip=zip_code").unwrap();
    let answer = |text: &str| leadhook_shared::Answer::One(text.into());
    let mut jane = lead(7, "Jane Doe", 0);
    jane.meta
        .fields
        .insert("what_is_your_budget?".into(), answer("=5000"));
    jane.meta
        .fields
        .insert("postcode".into(), answer("10115\u{202e}"));
    jane.meta
        .fields
        .insert("zip_code".into(), answer("not read on form 2002"));
    let mut bob = lead(8, "Bob", 1);
    bob.meta.form_id = Some("3003".into());
    bob.meta.fields.insert(
        "what_is_your_budget?".into(),
        leadhook_shared::Answer::Many(vec!["5k".into(), "10k".into()]),
    );
    bob.meta.fields.insert("zip_code".into(), answer("90210"));
    write_csv_with(&path, &[jane, bob, lead(9, "Ann", 2)], columns).unwrap();

    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header = reader.headers().unwrap().clone();
    assert_eq!(header.len(), COLUMNS.len() + 2);
    assert_eq!(&header[COLUMNS.len()], "budget");
    assert_eq!(&header[COLUMNS.len() + 1], "zip");
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            row.iter().skip(COLUMNS.len()).map(str::to_string).collect()
        })
        .collect();
    assert_eq!(rows, [["'=5000", "10115"], ["5k, 10k", "90210"], ["", ""],]);
}

#[test]
fn erased_leads_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    let mut erased = lead(9, "Gone Person", 2);
    erased.erased_at = Some(now());
    assert_eq!(
        write_csv(&path, &[lead(7, "Jane Doe", 0), erased, lead(8, "Bob", 1)]).unwrap(),
        2
    );
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let ids: Vec<String> = reader
        .records()
        .map(|row| row.unwrap()[0].to_string())
        .collect();
    assert_eq!(ids, ["7", "8"]);
}

#[test]
fn formulas_are_neutralised_and_a_phone_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    let mut eve = lead(9, "=HYPERLINK(\"http://evil.test\",\"click\")", 0);
    eve.meta.phone = Some("+15551234567".into());
    eve.meta.email = Some("@SUM(1+1)*cmd|' /C calc'!A0".into());
    eve.notes = Some("-2+3+cmd|' /C calc'!A0".into());
    eve.meta.campaign_name = Some("\t=1+1".into());
    eve.meta.ad_name = Some("\r=1+1".into());
    eve.meta.form_name = Some("Spring \u{202e}Promo".into());
    eve.meta.fields = [(
        "=cmd".to_string(),
        leadhook_shared::Answer::One("-1".into()),
    )]
    .into();
    write_csv(&path, &[eve]).unwrap();

    let mut reader = csv::Reader::from_path(&path).unwrap();
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[3], "'=HYPERLINK(\"http://evil.test\",\"click\")");
    assert_eq!(&row[4], "'+15551234567");
    assert_eq!(&row[5], "'@SUM(1+1)*cmd|' /C calc'!A0");
    assert_eq!(&row[12], "'-2+3+cmd|' /C calc'!A0");
    assert_eq!(&row[8], "'\t=1+1");
    assert_eq!(&row[9], "'\r=1+1");
    assert_eq!(&row[7], "Spring Promo");
    assert_eq!(&row[11], "'=cmd: -1");
}

#[cfg(unix)]
#[test]
fn exports_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    write_csv(&path, &[lead(1, "Ann", 0)]).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

/// A link planted at the export's name (by another user of a shared folder, say) is not
/// followed: the file it points to is left as it was.
#[cfg(unix)]
#[test]
fn a_symlink_at_the_export_path_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.txt");
    std::fs::write(&target, "keep me").unwrap();
    let path = dir.path().join("x.csv");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let file = CsvFile::create(&path, AnswerColumns::default()).unwrap();
    assert_eq!(file.path(), dir.path().join("x-1.csv"));
    file.finish().unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert!(path.is_symlink());
}

#[test]
fn an_existing_file_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    std::fs::write(&path, "an earlier export").unwrap();
    write_csv(&path, &[lead(1, "Ann", 0)]).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "an earlier export");
    let next = dir.path().join("x-1.csv");
    let mut reader = csv::Reader::from_path(&next).unwrap();
    assert_eq!(reader.records().count(), 1);

    for n in 2..=FREE_NAME_TRIES {
        std::fs::write(dir.path().join(format!("x-{n}.csv")), "").unwrap();
    }
    let err = write_csv(&path, &[]).expect_err("no free name");
    assert!(
        err.to_string().contains("move or delete old exports"),
        "{err}"
    );
}

#[test]
fn unwritable_folder_says_what_to_do() {
    let err = write_csv(Path::new("/nonexistent/dir/x.csv"), &[]).unwrap_err();
    assert!(err.to_string().contains("folder you can write to"), "{err}");
}
