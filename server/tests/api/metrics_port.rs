//! `/metrics` is served on its own (loopback) address, never on the public port.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn metrics_are_not_on_the_public_port() {
    let app = spawn_app().await;
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_are_served_on_the_metrics_address() {
    let app = spawn_app().await;
    let metrics = app.metrics().await;
    assert!(metrics.contains("leadhook_"), "{metrics}");
    assert!(
        !app.metrics_address.as_deref().unwrap().ends_with(":0"),
        "the bound port, not 0"
    );
}
