//! Listing checks every `LeadStore` must pass: order, paging, filters and the change cursor.

use leadhook_server::store::{LeadQuery, LeadStore};
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{Cursor, LeadPatch, LeadStatus};

use super::suite::{at, incoming};

pub async fn list_is_newest_first_with_paging(store: &dyn LeadStore) {
    for (i, hours_ago) in [5, 1, 3, 2, 4].into_iter().enumerate() {
        store
            .upsert(
                &incoming(
                    &format!("20{i}"),
                    &format!("Lead {hours_ago}"),
                    at(hours_ago),
                ),
                FACEBOOK,
            )
            .await
            .unwrap();
    }
    let all = store.list(&LeadQuery::default()).await.unwrap();
    let names: Vec<_> = all
        .leads
        .iter()
        .map(|l| l.meta.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["Lead 1", "Lead 2", "Lead 3", "Lead 4", "Lead 5"]);
    assert_eq!(all.count, 5);

    let page = store
        .list(&LeadQuery {
            limit: 2,
            offset: 2,
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    let names: Vec<_> = page
        .leads
        .iter()
        .map(|l| l.meta.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["Lead 3", "Lead 4"]);
    assert_eq!(page.count, 5, "count ignores limit and offset");

    let past_end = store
        .list(&LeadQuery {
            offset: 10,
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    assert!(past_end.leads.is_empty());
    assert_eq!(past_end.count, 5);
}

pub async fn list_filters_by_status_and_search(store: &dyn LeadStore) {
    let jane = store
        .upsert(&incoming("301", "Jane Doe", at(1)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    store
        .upsert(&incoming("302", "José Muñoz", at(2)), FACEBOOK)
        .await
        .unwrap();
    store
        .upsert(&incoming("303", "Bob Stone", at(3)), FACEBOOK)
        .await
        .unwrap();
    store
        .update(
            jane.id,
            &LeadPatch {
                status: Some(LeadStatus::Contacted),
                notes: None,
                ..LeadPatch::default()
            },
            "alice",
        )
        .await
        .unwrap();

    let search = |q: &str| LeadQuery {
        search: Some(q.to_string()),
        ..LeadQuery::default()
    };
    let names = |page: leadhook_server::store::LeadPage| -> Vec<String> {
        page.leads
            .into_iter()
            .map(|l| l.meta.name.unwrap())
            .collect()
    };

    let contacted = store
        .list(&LeadQuery {
            status: Some(LeadStatus::Contacted),
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(contacted.count, 1);
    assert_eq!(names(contacted), ["Jane Doe"]);

    assert_eq!(
        names(store.list(&search("jane")).await.unwrap()),
        ["Jane Doe"],
        "name, any case"
    );
    assert_eq!(
        names(store.list(&search("BOB.STONE@")).await.unwrap()),
        ["Bob Stone"],
        "email"
    );
    assert_eq!(
        names(store.list(&search("1555302")).await.unwrap()),
        ["José Muñoz"],
        "phone"
    );
    assert_eq!(
        names(store.list(&search("Muñoz")).await.unwrap()),
        ["José Muñoz"],
        "non-ASCII"
    );
    assert_eq!(
        store.list(&search("50%_off")).await.unwrap().count,
        0,
        "wildcards are literal"
    );
    assert_eq!(store.list(&search("nobody")).await.unwrap().count, 0);

    let both = store
        .list(&LeadQuery {
            status: Some(LeadStatus::NewLead),
            search: Some("o".into()),
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(names(both), ["José Muñoz", "Bob Stone"]);
}

pub async fn since_cursor_returns_only_changes(store: &dyn LeadStore) {
    let empty = store.list(&LeadQuery::default()).await.unwrap();
    assert_eq!(empty.cursor, Cursor::START);

    let a = store
        .upsert(&incoming("401", "Ann", at(3)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let b = store
        .upsert(&incoming("402", "Ben", at(2)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let snapshot = store.list(&LeadQuery::default()).await.unwrap();
    assert_eq!(
        snapshot.cursor,
        Cursor::new(b.updated_at, b.id),
        "cursor is the newest change"
    );

    let idle = store
        .list(&LeadQuery {
            since: Some(snapshot.cursor),
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    assert!(idle.leads.is_empty());
    assert_eq!(idle.count, 0);
    assert_eq!(idle.cursor, snapshot.cursor, "an idle poll keeps its place");

    let updated = store
        .update(
            a.id,
            &LeadPatch {
                status: Some(LeadStatus::Lost),
                notes: None,
                ..LeadPatch::default()
            },
            "alice",
        )
        .await
        .unwrap()
        .unwrap();
    let c = store
        .upsert(&incoming("403", "Cid", at(1)), FACEBOOK)
        .await
        .unwrap()
        .lead;
    let changes = store
        .list(&LeadQuery {
            since: Some(snapshot.cursor),
            ..LeadQuery::default()
        })
        .await
        .unwrap();
    let ids: Vec<_> = changes.leads.iter().map(|l| l.id).collect();
    assert_eq!(ids, [a.id, c.id], "changes come oldest change first");
    assert_eq!(changes.leads[0].status, LeadStatus::Lost);
    assert_eq!(changes.count, 2);
    assert_eq!(changes.cursor, Cursor::new(c.updated_at, c.id));
    assert!(updated.updated_at <= c.updated_at);
}

pub async fn since_cursor_pages_without_gaps(store: &dyn LeadStore) {
    let mut expected = Vec::new();
    for i in 0..7 {
        expected.push(
            store
                .upsert(
                    &incoming(&format!("50{i}"), &format!("L{i}"), at(i)),
                    FACEBOOK,
                )
                .await
                .unwrap()
                .lead
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut cursor = Cursor::START;
    loop {
        let page = store
            .list(&LeadQuery {
                since: Some(cursor),
                limit: 3,
                ..LeadQuery::default()
            })
            .await
            .unwrap();
        if page.leads.is_empty() {
            break;
        }
        seen.extend(page.leads.iter().map(|l| l.id));
        assert!(page.cursor > cursor, "the cursor moves forward");
        cursor = page.cursor;
    }
    assert_eq!(
        seen, expected,
        "paging through changes sees each once, in order"
    );
}

pub async fn visible_to_keeps_own_and_unowned_leads(store: &dyn LeadStore) {
    let mut ids = Vec::new();
    for (i, name) in ["Mine", "Bob's", "Nobody's"].into_iter().enumerate() {
        let lead = store
            .upsert(
                &incoming(&format!("40{i}"), name, at(i as i64 + 1)),
                FACEBOOK,
            )
            .await
            .unwrap()
            .lead;
        ids.push(lead.id);
    }
    store.claim(ids[0], "alice").await.unwrap();
    store.claim(ids[1], "bob").await.unwrap();
    let for_alice = |search: Option<&str>| LeadQuery {
        visible_to: Some("alice".into()),
        search: search.map(str::to_string),
        ..LeadQuery::default()
    };
    let page = store.list(&for_alice(None)).await.unwrap();
    let names: Vec<_> = page
        .leads
        .iter()
        .map(|l| l.meta.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["Mine", "Nobody's"]);
    assert_eq!(page.count, 2, "the count leaves out what alice may not see");
    let searched = store.list(&for_alice(Some("bob"))).await.unwrap();
    assert_eq!(
        searched.count, 0,
        "a search does not reach around visibility"
    );
    let everyone = store.list(&LeadQuery::default()).await.unwrap();
    assert_eq!(everyone.count, 3);
}
