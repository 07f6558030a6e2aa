//! For synchronous callers (integration tests of the whole binary): [`spawn`] runs the
//! emulator on its own thread and tokio runtime and stops it when the handle is dropped.
//! [`Control`] reaches the lab controls directly, and [`client_for`] builds a reqwest client
//! that trusts only the emulator's CA.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use serde_json::Value;

use super::faults::{Effect, FaultView};
use super::model::AppData;
use super::state::{RequestRecord, Shared};
use super::{EmulatorOptions, LabError, start};

/// Direct access to the lab controls, the same as the `/__lab` routes.
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl Control {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Control { shared }
    }

    /// The whole estate as JSON (as `GET /__lab/state`, without the token).
    pub fn state(&self) -> Value {
        let mut v = serde_json::to_value(&*self.shared.read()).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.remove("token");
        }
        v
    }

    /// An app's data (`None` when there is no such app).
    pub fn app_data(&self, app_id: &str) -> Option<AppData> {
        self.shared.read().app(app_id).map(|a| a.lab_data.clone())
    }

    /// Use an app so its data changes (as `POST /__lab/apps/:id/use`); the app must exist
    /// and be installed and running.
    pub fn use_app(&self, app_id: &str) -> Result<AppData, String> {
        self.shared
            .mutate(|e| super::control::use_app_in(e, app_id))
            .map_err(|e| e.message)
    }

    /// Add a fault rule (as `POST /__lab/faults`).
    pub fn add_fault(
        &self,
        pattern: &str,
        effect: &str,
        times: Option<u64>,
    ) -> Result<FaultView, String> {
        let effect = Effect::parse(effect).ok_or_else(|| format!("unknown effect {effect:?}"))?;
        self.shared.faults().add(pattern, effect, times)
    }

    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// Every request received (control requests excepted), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.requests(0)
    }

    /// Back to the seed (as `POST /__lab/reset`).
    pub fn reset(&self) {
        self.shared.reset();
    }
}

/// An emulator on its own thread; dropping the handle stops it and waits for it.
pub struct EmulatorHandle {
    pub url: String,
    pub token: String,
    pub ca_file: Option<PathBuf>,
    pub ca_pem: Option<String>,
    pub addr: SocketAddr,
    control: Control,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    pub fn control(&self) -> Control {
        self.control.clone()
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Ready {
    url: String,
    token: String,
    ca_file: Option<PathBuf>,
    ca_pem: Option<String>,
    addr: SocketAddr,
    control: Control,
}

/// Start an emulator on a thread of its own; it serves until the handle is dropped.
pub fn spawn(opts: EmulatorOptions) -> Result<EmulatorHandle, LabError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<Ready, LabError>>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("cloudron-emulator".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(LabError::Runtime(e.to_string())));
                    return;
                }
            };
            rt.block_on(async move {
                let emu = match start(opts).await {
                    Ok(emu) => emu,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(Ready {
                    url: emu.url.clone(),
                    token: emu.token.clone(),
                    ca_file: emu.ca_file.clone(),
                    ca_pem: emu.ca_pem.clone(),
                    addr: emu.addr,
                    control: emu.control(),
                }));
                let _ = stop_rx.await;
                emu.shutdown().await;
            });
        })
        .map_err(|e| LabError::Runtime(e.to_string()))?;
    let ready = ready_rx
        .recv()
        .map_err(|_| LabError::Runtime("the emulator thread ended before it was ready".into()))?;
    match ready {
        Ok(r) => Ok(EmulatorHandle {
            url: r.url,
            token: r.token,
            ca_file: r.ca_file,
            ca_pem: r.ca_pem,
            addr: r.addr,
            control: r.control,
            stop: Some(stop_tx),
            thread: Some(thread),
        }),
        Err(e) => {
            let _ = thread.join();
            Err(e)
        }
    }
}

/// A reqwest client that trusts only the given CA (or the system's roots when `None`).
pub fn client_for(ca_pem: Option<&str>) -> Result<reqwest::Client, LabError> {
    let mut b = reqwest::Client::builder();
    if let Some(pem) = ca_pem {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| LabError::Tls(format!("reading the CA certificate: {e}")))?;
        b = b.tls_certs_only([cert]);
    }
    b.build()
        .map_err(|e| LabError::Tls(format!("building an HTTP client: {e}")))
}
