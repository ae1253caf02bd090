//! "No panic on any input" for Meta's payload parsers, checked on stable by every `cargo test`.
//!
//! Each input goes through both parsers (a webhook body and a Graph API lead arrive as the same
//! kind of bytes, so each is a fair input for the other): arbitrary bytes, soups of JSON tokens,
//! JSON documents shaped like the real payloads but with any field given any type, and mutations
//! of the seed payloads of the cargo-fuzz corpus. The fuzz targets in `fuzz/` search the same
//! space for much longer; this keeps a fast floor under CI.

use chrono::{DateTime, Utc};
use leadhook_shared::meta::{GraphLead, parse_graph_lead, parse_meta_time, parse_notification};
use proptest::collection::{btree_map, vec};
use proptest::option::weighted;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value};

/// The seed corpus of the fuzz targets: Meta's documented samples and their variants.
const SEEDS: &[&[u8]] = &[
    include_bytes!("../../../fuzz/corpus/webhook_payload/seed-meta-doc-sample.json"),
    include_bytes!("../../../fuzz/corpus/webhook_payload/seed-numeric-ids.json"),
    include_bytes!("../../../fuzz/corpus/webhook_payload/seed-batch-mixed-fields.json"),
    include_bytes!("../../../fuzz/corpus/webhook_payload/seed-other-object.json"),
    include_bytes!("../../../fuzz/corpus/graph_lead/seed-meta-doc-lead.json"),
    include_bytes!("../../../fuzz/corpus/graph_lead/seed-numeric-ids-organic.json"),
    include_bytes!("../../../fuzz/corpus/graph_lead/seed-unicode-escaped-names.json"),
    include_bytes!("../../../fuzz/corpus/graph_lead/seed-multiple-choice-and-missing.json"),
    include_bytes!("../../../fuzz/corpus/graph_lead/seed-time-meta.txt"),
    include_bytes!("../../../fuzz/corpus/graph_lead/seed-time-rfc3339.txt"),
];

/// Pieces of JSON that steer random input towards the parsers' interesting paths.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    " ",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "-1",
    "0.5",
    "1e400",
    "-1e-400",
    "18446744073709551616",
    "444444444444",
    "\"0\"",
    "\" \"",
    "\"\"",
    "\"\\u00e9\"",
    "\"\\ud83d\\ude00\"",
    "\"\\ud83d\"",
    "\"\\u0000\"",
    "\"object\"",
    "\"page\"",
    "\"entry\"",
    "\"id\"",
    "\"time\"",
    "\"changes\"",
    "\"field\"",
    "\"leadgen\"",
    "\"value\"",
    "\"leadgen_id\"",
    "\"page_id\"",
    "\"form_id\"",
    "\"ad_id\"",
    "\"adgroup_id\"",
    "\"created_time\"",
    "\"field_data\"",
    "\"name\"",
    "\"values\"",
    "\"full_name\"",
    "\"first_name\"",
    "\"email\"",
    "\"is_organic\"",
    "\"custom_disclaimer_responses\"",
    "\"checkbox_key\"",
    "\"is_checked\"",
    "\"2015-02-28T08:49:14+0000\"",
    "\"2024-05-01T12:00:00+00:00\"",
];

/// Every key either parser reads, so that generated objects hit real fields, not only unknown ones.
const KEYS: &[&str] = &[
    "object",
    "entry",
    "id",
    "time",
    "changes",
    "field",
    "value",
    "leadgen_id",
    "page_id",
    "form_id",
    "ad_id",
    "adgroup_id",
    "created_time",
    "field_data",
    "name",
    "values",
    "ad_name",
    "adset_id",
    "adset_name",
    "campaign_id",
    "campaign_name",
    "is_organic",
    "platform",
    "custom_disclaimer_responses",
    "checkbox_key",
    "is_checked",
];

/// Question names the lead parser looks for (name, email and phone come from these).
const QUESTIONS: &[&str] = &[
    "full_name",
    "first_name",
    "last_name",
    "email",
    "work_email",
    "phone_number",
    "work_phone_number",
    "city",
];

/// Runs every parser on one input. Results may be anything; the call must return, and IDs that
/// come out must be usable (`""` and `"0"` mean "no ID" and must never reach the store).
fn parse_everything(bytes: &[u8]) {
    if let Ok(notification) = parse_notification(bytes) {
        for event in &notification.events {
            assert!(
                !matches!(event.leadgen_id.as_str(), "" | "0"),
                "webhook event with unusable leadgen_id {:?}",
                event.leadgen_id
            );
        }
    }
    if let Ok(lead) = GraphLead::from_json(bytes)
        && let Ok(parsed) = parse_graph_lead(lead, DateTime::<Utc>::UNIX_EPOCH)
    {
        assert!(
            !matches!(parsed.leadgen_id.as_str(), "" | "0"),
            "Graph lead with unusable id {:?}",
            parsed.leadgen_id
        );
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = parse_meta_time(text);
    }
}

/// Serialises a document, optionally with non-ASCII characters escaped as `\uXXXX` the way Meta
/// sends them (serde_json writes them raw; outside strings JSON has no non-ASCII to escape).
fn to_body(document: &Value, escape_non_ascii: bool) -> Vec<u8> {
    let text = document.to_string();
    if !escape_non_ascii {
        return text.into_bytes();
    }
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            escaped.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                escaped.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    escaped.into_bytes()
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        "[0-9 ]{0,20}",
        // Times as Meta writes them, in RFC 3339, and near misses of both.
        "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,12})?(Z|[+-][0-9]{4}|[+-][0-9]{2}:[0-9]{2})",
        "[+-]?[0-9]{1,7}-[0-9]{1,3}-[0-9]{1,3}T[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\\.[0-9]{0,12})?(Z|[+-][0-9]{1,5}|[+-][0-9]{2}:[0-9]{2})?",
        ".{0,16}",
        select(KEYS).prop_map(str::to_string),
    ]
    .boxed()
}

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Non-finite floats become `null` in JSON; the parsers see only finite numbers.
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep, with object keys mostly taken from the parsers' own fields.
fn any_value() -> BoxedStrategy<Value> {
    let key = prop_oneof![3 => select(KEYS).prop_map(str::to_string), 1 => ".{0,8}"];
    scalar()
        .prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(Value::from),
                btree_map(key.clone(), inner, 0..4)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
        .boxed()
}

/// How far generated documents stray from the types Meta sends.
#[derive(Debug, Clone, Copy)]
enum Types {
    /// Every field has the type Meta sends, with any content: the documents get past
    /// deserialisation and exercise the parsing behind it.
    AsMetaSends,
    /// A fair share of the fields hold something else: the documents probe the error paths.
    Any,
}

/// A field's value: the type Meta sends, or with [`Types::Any`] sometimes anything at all.
fn typed(types: Types, usual: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    match types {
        Types::AsMetaSends => usual,
        Types::Any => prop_oneof![3 => usual, 1 => any_value()].boxed(),
    }
}

/// An ID as Meta sends it (string or number, `0` for organic and test leads), or with
/// [`Types::Any`] also numbers no ID can be and anything else.
fn id(types: Types) -> BoxedStrategy<Value> {
    let usual = prop_oneof![
        "[0-9]{0,20}".prop_map(Value::from),
        Just(Value::from("0")),
        Just(Value::from(" 12 ")),
        any::<u64>().prop_map(Value::from),
        any::<u32>().prop_map(|n| Value::from(f64::from(n))),
        Just(Value::from(-0.0)),
    ]
    .boxed();
    match types {
        Types::AsMetaSends => usual,
        Types::Any => prop_oneof![
            2 => usual,
            1 => any::<i64>().prop_map(Value::from),
            1 => any::<f64>().prop_map(Value::from),
            1 => any_value(),
        ]
        .boxed(),
    }
}

fn string_value(types: Types) -> BoxedStrategy<Value> {
    typed(types, text().prop_map(Value::from).boxed())
}

/// A JSON object with the named fields, each present most of the time.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    fields
        .into_iter()
        .map(|(key, value)| weighted(0.8, value).prop_map(move |value| (key, value)))
        .collect::<Vec<_>>()
        .prop_map(|fields| {
            let present = fields
                .into_iter()
                .filter_map(|(key, value)| Some((key.to_string(), value?)));
            Value::Object(present.collect::<Map<_, _>>())
        })
        .boxed()
}

fn array(items: BoxedStrategy<Value>, max: usize) -> BoxedStrategy<Value> {
    vec(items, 0..=max).prop_map(Value::from).boxed()
}

fn notification(types: Types) -> BoxedStrategy<Value> {
    let leadgen_value = object(vec![
        ("leadgen_id", id(types)),
        ("page_id", id(types)),
        ("form_id", id(types)),
        ("ad_id", id(types)),
        ("adgroup_id", id(types)),
        ("created_time", scalar()),
    ]);
    let field = prop_oneof![
        2 => Just(Value::from("leadgen")),
        1 => string_value(types),
    ];
    let change = object(vec![
        ("field", field.boxed()),
        // `value` is any JSON to the webhook's envelope; a leadgen value that is not an
        // object is counted as malformed, so both kinds are well-typed here.
        (
            "value",
            prop_oneof![3 => leadgen_value, 1 => any_value()].boxed(),
        ),
    ]);
    let entry = object(vec![
        ("id", id(types)),
        ("time", any::<i64>().prop_map(Value::from).boxed()),
        ("changes", typed(types, array(change, 3))),
    ]);
    let object_kind = prop_oneof![
        2 => Just(Value::from("page")),
        1 => string_value(types),
    ];
    object(vec![
        ("object", object_kind.boxed()),
        ("entry", typed(types, array(entry, 3))),
    ])
}

fn graph_lead(types: Types) -> BoxedStrategy<Value> {
    let question = prop_oneof![
        2 => select(QUESTIONS).prop_map(Value::from),
        1 => string_value(types),
    ];
    let field_data = object(vec![
        ("name", question.boxed()),
        ("values", typed(types, array(scalar(), 3))),
    ]);
    let is_checked = prop_oneof![
        any::<bool>().prop_map(Value::from),
        Just(Value::from("1")),
        Just(Value::from("true")),
        scalar(),
    ];
    let disclaimer = object(vec![
        ("checkbox_key", string_value(types)),
        ("is_checked", is_checked.boxed()),
    ]);
    object(vec![
        ("id", id(types)),
        ("created_time", string_value(types)),
        ("field_data", typed(types, array(field_data, 4))),
        ("ad_id", id(types)),
        ("ad_name", string_value(types)),
        ("adset_id", id(types)),
        ("adset_name", string_value(types)),
        ("campaign_id", id(types)),
        ("campaign_name", string_value(types)),
        ("form_id", id(types)),
        (
            "is_organic",
            typed(types, any::<bool>().prop_map(Value::from).boxed()),
        ),
        ("platform", string_value(types)),
        (
            "custom_disclaimer_responses",
            typed(types, array(disclaimer, 2)),
        ),
    ])
}

/// One edit of a seed payload, at a position taken modulo its current length.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBits(Index, u8),
    Insert(Index, Vec<u8>),
    Remove(Index, usize),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let insertion = prop_oneof![
        select(TOKENS).prop_map(|token| token.as_bytes().to_vec()),
        vec(any::<u8>(), 1..4),
    ];
    prop_oneof![
        (any::<Index>(), 1..=u8::MAX).prop_map(|(at, bits)| Mutation::FlipBits(at, bits)),
        (any::<Index>(), insertion).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<Index>(), 1..16usize).prop_map(|(at, len)| Mutation::Remove(at, len)),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for mutation in mutations {
        if bytes.is_empty() {
            break;
        }
        match mutation {
            Mutation::FlipBits(at, bits) => {
                let at = at.index(bytes.len());
                bytes[at] ^= bits;
            }
            Mutation::Insert(at, insert) => {
                let at = at.index(bytes.len() + 1);
                bytes.splice(at..at, insert.iter().copied());
            }
            Mutation::Remove(at, len) => {
                let at = at.index(bytes.len());
                bytes.drain(at..(at + len).min(bytes.len()));
            }
            Mutation::Truncate(at) => bytes.truncate(at.index(bytes.len())),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_bytes(bytes in vec(any::<u8>(), 0..512)) {
        parse_everything(&bytes);
    }

    #[test]
    fn json_token_soup(tokens in vec(prop_oneof![3 => select(TOKENS), 1 => select(KEYS)], 0..64)) {
        parse_everything(tokens.concat().as_bytes());
    }

    #[test]
    fn mutated_seed_payloads(seed in select(SEEDS), mutations in vec(mutation(), 1..8)) {
        parse_everything(&mutate(seed, &mutations));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn notification_shaped_documents(
        document in prop_oneof![notification(Types::AsMetaSends), notification(Types::Any)],
        escape in any::<bool>(),
    ) {
        parse_everything(&to_body(&document, escape));
    }

    #[test]
    fn graph_lead_shaped_documents(
        document in prop_oneof![graph_lead(Types::AsMetaSends), graph_lead(Types::Any)],
        escape in any::<bool>(),
    ) {
        parse_everything(&to_body(&document, escape));
    }

    #[test]
    fn id_time_and_key_strings(input in text()) {
        parse_everything(input.as_bytes());
    }
}
