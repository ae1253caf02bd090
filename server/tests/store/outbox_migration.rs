//! The outbox's migration (`20261207180000_outbox.sql`) beside an older replica.

use crate::postgrest_migrations::migrated;

/// An older replica's Conversions API sender calls `capi_claim`, `capi_figures`, `capi_settle`
/// and `capi_set_switch` as before the outbox: against the new schema they still work, and see
/// only the destination `capi`, never a webhook's deliveries.
#[tokio::test]
async fn an_older_replicas_conversions_api_calls_see_only_its_own_deliveries() {
    let database = migrated().await;
    let client = database.connect().await;
    client
        .batch_execute(
            "SELECT public.capi_set_switch(true, now() - interval '7 days');
             SELECT public.outbox_set_routes('[{\"destination\": \"crm\", \"event_type\": \"lead.created\"}]');
             INSERT INTO public.leads (leadgen_id, name, changed_by) VALUES ('90002', 'Old Replica', 'facebook');",
        )
        .await
        .expect("queue a lead's deliveries");
    let queued: Vec<String> = client
        .query(
            "SELECT destination FROM public.capi_events ORDER BY destination",
            &[],
        )
        .await
        .expect("read the outbox")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(queued, ["capi", "crm"]);
    let claimed: Vec<(i64, String)> = client
        .query("SELECT id, leadgen_id FROM public.capi_claim(10, 60)", &[])
        .await
        .expect("an older replica claims")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].1, "90002");
    client
        .execute(
            "SELECT public.capi_settle(ARRAY[$1::bigint], 'sent', null, 0)",
            &[&claimed[0].0],
        )
        .await
        .expect("an older replica settles");
    let figures: String = client
        .query_one(
            "SELECT public.capi_figures(now() - interval '1 hour', 10)::text",
            &[],
        )
        .await
        .expect("an older replica reads its figures")
        .get(0);
    let figures: serde_json::Value = serde_json::from_str(&figures).expect("json");
    assert_eq!(figures["sent_today"], 1, "{figures}");
    assert_eq!(
        figures["queued"], 0,
        "the webhook's delivery is not the CAPI's: {figures}"
    );
}
