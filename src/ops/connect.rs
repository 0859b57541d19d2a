//! How the operations reach ONC: an endpoint and the executor's limits, and a connection made
//! on first need (a run whose items are all done, or whose clips only need files on disk,
//! needs no token and starts no simulator).

use super::OpsError;
use crate::exec::ExecConfig;
use crate::onc::{Client, Token};

/// Where to send requests.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// The built-in simulator, started in-process on a free loopback port on first need, with
    /// ONC's processing times scaled down 50× (a first run takes seconds, still queueing like
    /// ONC). `product_window` names the simulator's product-request rule (`overlap`, the
    /// default, or `start`; see `onc_sim::delivery`).
    Simulate {
        /// The simulator's `--product-window`, if not the default.
        product_window: Option<String>,
    },
    /// An ONC API root (or a simulator's), with a token, or why there is none: that is a usage
    /// error only when something must be fetched.
    Onc {
        /// The API root, e.g. `https://data.oceannetworks.ca/`.
        url: String,
        /// The token, or why none was found.
        token: Result<Token, NoToken>,
    },
}

/// Why no token is at hand (shown as is, when a token turns out to be needed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoToken(pub String);

/// How to reach ONC and how hard to push.
#[derive(Debug, Clone)]
pub struct NetOptions {
    /// Where.
    pub endpoint: Endpoint,
    /// Requests, downloads and polls in flight, resubmits, flush interval.
    pub exec: ExecConfig,
}

impl NetOptions {
    /// ONC (or a simulator) at `url` with `token`, default limits.
    #[must_use]
    pub fn onc(url: impl Into<String>, token: Token) -> Self {
        Self {
            endpoint: Endpoint::Onc {
                url: url.into(),
                token: Ok(token),
            },
            exec: ExecConfig::default(),
        }
    }
}

/// One connection for the consecutive runs of one operation (one embedded simulator for all).
pub(super) struct Connection {
    net: NetOptions,
    client: Option<Client>,
    sim: Option<super::simulate::Embedded>,
}

impl Connection {
    pub(super) fn new(net: NetOptions) -> Self {
        Self {
            net,
            client: None,
            sim: None,
        }
    }

    pub(super) fn exec_config(&self) -> ExecConfig {
        self.net.exec.clone()
    }

    /// The client, connecting (or starting the simulator) on first use.
    pub(super) async fn client(&mut self) -> Result<Client, OpsError> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let client = match &self.net.endpoint {
            Endpoint::Simulate { product_window } => {
                let (client, sim) = super::simulate::start(product_window.as_deref()).await?;
                self.sim = Some(sim);
                client
            }
            Endpoint::Onc { url, token } => {
                let token = token.clone().map_err(|e| OpsError::Usage(e.0))?;
                Client::new(url, token)?
            }
        };
        self.client = Some(client.clone());
        Ok(client)
    }
}
