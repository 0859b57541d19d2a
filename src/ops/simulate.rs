//! `Endpoint::Simulate`: the ONC simulator started in-process on a free loopback port.
//!
//! A build without the `sim` feature (`--no-default-features`) has no simulator: asking for it
//! is a usage error (exit 2) that says why, rather than "unexpected argument".

use super::OpsError;
use crate::onc::Client;

/// The running embedded simulator; dropping it stops the server.
#[cfg(feature = "sim")]
pub(super) type Embedded = crate::sim::SimHandle;

/// No simulator in this build: a value of this type cannot exist.
#[cfg(not(feature = "sim"))]
pub(super) enum Embedded {}

/// Starts the embedded simulator and a client for it (with the demo token). ONC's processing
/// times are scaled down 50×, so a first run takes seconds, not minutes, while still queueing
/// like ONC. `product_window` is the simulator's product-request rule by name (`overlap` or
/// `start`); an unknown name is bad usage.
#[cfg(feature = "sim")]
pub(super) async fn start(product_window: Option<&str>) -> Result<(Client, Embedded), OpsError> {
    use crate::onc::Token;
    let product_window = match product_window {
        None => crate::sim::delivery::ProductWindow::default(),
        Some(name) => name
            .parse()
            .map_err(|e: String| OpsError::Usage(format!("simulator product window: {e}")))?,
    };
    let cfg = crate::sim::SimConfig {
        time_scale: 0.02,
        capacity: 4,
        product_window,
        ..crate::sim::SimConfig::default()
    };
    let sim = crate::sim::spawn(cfg).await?;
    let token = Token::new(crate::sim::DEMO_TOKEN)
        .ok_or_else(|| OpsError::Usage("bad demo token".into()))?;
    let client = Client::new(&sim.base_url, token)?;
    Ok((client, sim))
}

/// Without the `sim` feature: a usage error that says why (async only to match the other
/// build's signature).
#[cfg(not(feature = "sim"))]
#[expect(
    clippy::unused_async,
    reason = "the same signature as the simulator build's"
)]
pub(super) async fn start(_product_window: Option<&str>) -> Result<(Client, Embedded), OpsError> {
    Err(OpsError::Usage(
        "--simulate: this build of hydrofetch has no simulator (it was built without the `sim` \
         feature); rebuild with default features, or pass --onc-url and a token"
            .into(),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    /// Without the simulator, `--simulate` is bad usage (exit 2) and says why.
    #[cfg(not(feature = "sim"))]
    #[tokio::test]
    async fn simulate_without_the_simulator_is_a_usage_error() {
        // `Embedded` is uninhabited here: `start` cannot succeed, the type says so.
        let Err(err) = super::start(None).await;
        assert!(err.is_bad_input(), "{err}");
        let message = err.to_string();
        assert!(message.contains("--simulate"), "{message}");
        assert!(message.contains("`sim` feature"), "{message}");
    }

    /// With the simulator, `--simulate` serves the API on loopback with the demo token.
    #[cfg(feature = "sim")]
    #[tokio::test]
    async fn simulate_starts_a_loopback_simulator() {
        let Ok((_client, sim)) = super::start(None).await else {
            panic!("the embedded simulator did not start");
        };
        assert!(
            sim.base_url.starts_with("http://127.0.0.1:"),
            "{}",
            sim.base_url
        );
        let url = format!(
            "{}api/deployments?token={}",
            sim.base_url,
            crate::sim::DEMO_TOKEN
        );
        let status = reqwest::get(&url).await.unwrap().status();
        assert_eq!(status, 200, "{url}");
    }
}
