//! What both stores share when they store many leads from Meta at once: each `leadgen_id` once
//! (the later delivery wins), and one answer per input position.

use std::collections::HashMap;

use leadhook_shared::meta::IncomingLead;

use super::{StoreError, Upserted, at_store_precision};

/// The most leads a caller should pass to one `upsert_many`: what one SQLite transaction and one
/// PostgREST request carry. The stores accept longer inputs and store them in pieces this size.
/// 500 leads of ~1 KB keep a PostgREST request body near 0.5 MB and its answer under Supabase's
/// default cap of 1000 rows, and hold the SQLite store's lock for a few milliseconds.
pub const UPSERT_BATCH: usize = 500;

/// Where each input of a batch went once every `leadgen_id` is kept once: see [`distinct`].
pub(super) struct Positions {
    /// For each input position, the index of its lead among the distinct ones.
    slots: Vec<usize>,
    distinct: usize,
}

/// The leads of `input` with each `leadgen_id` once, at store precision: in the order of each
/// `leadgen_id`'s first appearance, with its last appearance's data. The positions turn the
/// results back into one per input ([`Positions::spread`]).
pub(super) fn distinct(input: &[IncomingLead]) -> (Vec<IncomingLead>, Positions) {
    let mut leads: Vec<IncomingLead> = Vec::with_capacity(input.len());
    let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(input.len());
    let mut slots = Vec::with_capacity(input.len());
    for lead in input {
        let incoming = IncomingLead {
            leadgen_id: lead.leadgen_id.clone(),
            meta: at_store_precision(&lead.meta),
        };
        let slot = match by_id.get(lead.leadgen_id.as_str()) {
            Some(&slot) => {
                leads[slot] = incoming;
                slot
            }
            None => {
                by_id.insert(&lead.leadgen_id, leads.len());
                leads.push(incoming);
                leads.len() - 1
            }
        };
        slots.push(slot);
    }
    let positions = Positions {
        slots,
        distinct: leads.len(),
    };
    (leads, positions)
}

impl Positions {
    /// Turns one result per distinct lead (in the order [`distinct`] gave them) into one per input
    /// position. A lead given several times was inserted (or changed) at most once: at its first
    /// position.
    pub(super) fn spread(&self, stored: Vec<Upserted>) -> Result<Vec<Upserted>, StoreError> {
        if stored.len() != self.distinct {
            return Err(StoreError::Internal(format!(
                "{} leads to store but {} results",
                self.distinct,
                stored.len()
            )));
        }
        let mut uses_left = vec![0usize; stored.len()];
        for &slot in &self.slots {
            uses_left[slot] += 1;
        }
        let mut seen = vec![false; stored.len()];
        let mut stored: Vec<Option<Upserted>> = stored.into_iter().map(Some).collect();
        Ok(self
            .slots
            .iter()
            .map(|&slot| {
                uses_left[slot] -= 1;
                // Moved out at its last position, copied before (a lead given several times).
                let mut result = if uses_left[slot] == 0 {
                    stored[slot].take()
                } else {
                    stored[slot].clone()
                }
                .expect("a result is taken only at its slot's last position");
                let first = !std::mem::replace(&mut seen[slot], true);
                result.inserted &= first;
                result.changed &= first;
                result
            })
            .collect())
    }
}

/// Stores `input` as `upsert_many` promises: each `leadgen_id` once, in pieces of at most
/// [`UPSERT_BATCH`] given to `store_piece` one after another, and one answer per input position.
pub(super) async fn in_pieces<F, Fut>(
    input: &[IncomingLead],
    mut store_piece: F,
) -> Result<Vec<Upserted>, StoreError>
where
    F: FnMut(Vec<IncomingLead>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Upserted>, StoreError>>,
{
    let (leads, positions) = distinct(input);
    let mut stored = Vec::with_capacity(leads.len());
    for piece in pieces(leads) {
        stored.extend(store_piece(piece).await?);
    }
    positions.spread(stored)
}

/// `leads` in pieces of at most [`UPSERT_BATCH`], without copying them.
pub(super) fn pieces(leads: Vec<IncomingLead>) -> impl Iterator<Item = Vec<IncomingLead>> {
    let mut leads = leads.into_iter();
    std::iter::from_fn(move || {
        let piece: Vec<IncomingLead> = leads.by_ref().take(UPSERT_BATCH).collect();
        (!piece.is_empty()).then_some(piece)
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use leadhook_shared::{Lead, MetaFields};

    use super::*;

    fn incoming(leadgen_id: &str, name: &str) -> IncomingLead {
        IncomingLead {
            leadgen_id: leadgen_id.into(),
            meta: MetaFields {
                name: Some(name.into()),
                email: None,
                phone: None,
                phone_e164: None,
                phone_invalid: false,
                email_key: None,
                junk_reason: None,
                created_at: Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap(),
                page_id: None,
                form_id: None,
                form_name: None,
                ad_id: None,
                ad_name: None,
                adset_id: None,
                adset_name: None,
                campaign_id: None,
                campaign_name: None,
                platform: None,
                is_organic: false,
                fields: Default::default(),
            },
        }
    }

    fn stored(id: i64, lead: &IncomingLead, inserted: bool) -> Upserted {
        let changed = inserted;
        Upserted {
            lead: Lead::arrived(
                id,
                Some(lead.leadgen_id.clone()),
                lead.meta.clone(),
                lead.meta.created_at,
            ),
            inserted,
            changed,
        }
    }

    #[test]
    fn a_repeated_leadgen_id_is_stored_once_with_its_last_data() {
        let input = [
            incoming("a", "first"),
            incoming("b", "only"),
            incoming("a", "second"),
            incoming("a", "third"),
        ];
        let (leads, positions) = distinct(&input);
        let names: Vec<_> = leads
            .iter()
            .map(|lead| (lead.leadgen_id.as_str(), lead.meta.name.as_deref()))
            .collect();
        assert_eq!(names, [("a", Some("third")), ("b", Some("only"))]);
        assert_eq!(
            leads[0].meta.created_at.timestamp_subsec_nanos(),
            123_456_000,
            "times are cut to the store's microseconds"
        );

        let results = positions
            .spread(vec![
                stored(1, &leads[0], true),
                stored(2, &leads[1], false),
            ])
            .unwrap();
        let seen: Vec<_> = results
            .iter()
            .map(|r| (r.lead.id, r.inserted, r.changed))
            .collect();
        assert_eq!(
            seen,
            [
                (1, true, true),
                (2, false, false),
                (1, false, false),
                (1, false, false)
            ]
        );
    }

    #[test]
    fn a_result_count_that_does_not_match_is_an_error() {
        let (_, positions) = distinct(&[incoming("a", "x")]);
        assert!(matches!(
            positions.spread(Vec::new()),
            Err(StoreError::Internal(_))
        ));
        assert!(distinct(&[]).1.spread(Vec::new()).unwrap().is_empty());
    }

    #[test]
    fn pieces_are_at_most_a_batch_and_keep_the_order() {
        let leads: Vec<_> = (0..UPSERT_BATCH * 2 + 1)
            .map(|i| incoming(&i.to_string(), "x"))
            .collect();
        let sizes: Vec<usize> = pieces(leads.clone()).map(|piece| piece.len()).collect();
        assert_eq!(sizes, [UPSERT_BATCH, UPSERT_BATCH, 1]);
        assert_eq!(pieces(leads.clone()).flatten().collect::<Vec<_>>(), leads);
        assert_eq!(pieces(Vec::new()).count(), 0);
    }
}
