//! Shared helpers of the simulator integration tests: start an in-process simulator on
//! 127.0.0.1:0 and call it with reqwest.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::time::Duration;

use hydrofetch::sim::{self, DEMO_TOKEN, SimConfig, SimHandle};
use serde_json::Value;

pub const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

pub async fn start(cfg: SimConfig) -> SimHandle {
    sim::spawn(SimConfig {
        tokens: vec![TOKEN.to_owned()],
        ..cfg
    })
    .await
    .unwrap()
}

pub async fn start_default() -> SimHandle {
    start(SimConfig::default()).await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// GET `path` with `params` plus the test token.
pub async fn get(h: &SimHandle, path: &str, params: &[(&str, &str)]) -> reqwest::Response {
    let mut q: Vec<(&str, &str)> = params.to_vec();
    q.push(("token", TOKEN));
    client()
        .get(with_query(&format!("{}{path}", h.base_url), &q))
        .send()
        .await
        .unwrap()
}

pub async fn get_json(h: &SimHandle, path: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let r = get(h, path, params).await;
    let s = r.status().as_u16();
    let t = r.text().await.unwrap();
    (s, serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

/// Asserts a 400 (or 401) ONC error with `code` on `parameter`.
pub fn assert_error(status: u16, body: &Value, want_status: u16, code: u64, parameter: &str) {
    assert_eq!(status, want_status, "{body}");
    let e = &body["errors"][0];
    assert_eq!(e["errorCode"].as_u64(), Some(code), "{body}");
    assert!(
        e["parameter"].as_str().unwrap().contains(parameter),
        "{body}"
    );
}

/// Polls `f` until it returns Some, within `deadline`.
pub async fn poll<T, F, Fut>(deadline: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "condition not reached within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub const DEMO: &str = DEMO_TOKEN;

/// `base` with `q` as query string.
pub fn with_query<K: AsRef<str>, V: AsRef<str>>(base: &str, q: &[(K, V)]) -> String {
    url::Url::parse_with_params(base, q.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
        .unwrap()
        .to_string()
}
