//! `app start|stop|restart` (and the undo of a start or a stop): one lifecycle POST, its task
//! recorded and followed, then the app's run state checked on the server.

use async_trait::async_trait;

use super::task::{self, TaskEnd};
use crate::cloudron::models::RunState;
use crate::cloudron::{Client, Lifecycle};
use crate::core::guard::Tier;
use crate::error::Error;
use crate::exec::action::{Action, Applied, Failure, OpCtx};
use crate::journal::{AppRef, OpId, OpKind, OpPlan, RestorePoint, UndoAction, UndoPlan};

/// Start, stop or restart one app.
pub struct RunStateChange {
    pub client: Client,
    pub app: AppRef,
    pub action: Lifecycle,
    /// The operation this undoes, when it is an undo.
    pub undoes: Option<(OpId, OpKind)>,
}

impl RunStateChange {
    fn want(&self) -> RunState {
        match self.action {
            Lifecycle::Stop => RunState::Stopped,
            _ => RunState::Running,
        }
    }
}

#[async_trait]
impl Action for RunStateChange {
    fn plan(&self) -> OpPlan {
        let app = self.app.clone();
        match (self.undoes, self.action) {
            (Some((undoes, of_kind)), a) => OpPlan::Undo(UndoPlan {
                undoes,
                of_kind,
                action: UndoAction::SetRunState {
                    app,
                    running: a != Lifecycle::Stop,
                },
            }),
            (None, Lifecycle::Stop) => OpPlan::AppStop(app),
            (None, Lifecycle::Start) => OpPlan::AppStart(app),
            (None, _) => OpPlan::AppRestart(app),
        }
    }

    fn target(&self) -> String {
        self.app.fqdn.clone()
    }

    fn tier(&self) -> Tier {
        match self.action {
            Lifecycle::Stop => Tier::Moderate,
            _ => Tier::Mild,
        }
    }

    async fn apply(&self, op: &OpCtx<'_>, _rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let (c, id, fqdn) = (&self.client, &self.app.app_id, &self.app.fqdn);
        let verb = self.action.segment();
        let t = task::sent(c.app_lifecycle(id, self.action).await)?;
        task::record(op, &t, Some(id), None);
        let way_back = Some(format!("matelot app restart {fqdn}"));
        task::follow(op, c, id, &t, &format!("{verb} {fqdn}"))
            .await
            .map_err(|e| task::judge_failure(e, fqdn, way_back.clone()))?;
        let app = c
            .get_app(id)
            .await
            .map_err(|e| task::judge_failure(TaskEnd::Lost(Failure::unknown(e)), fqdn, None))?;
        if app.run_state != self.want() {
            return Err(Failure::Changed {
                error: Error::failed(format!(
                    "the {verb} task {t} succeeded but {fqdn}'s run state is {} (installation \
                     state {}), not {}",
                    app.run_state,
                    app.installation_state,
                    self.want()
                )),
                state: format!("{fqdn} is {}", app.state_label()),
                way_back,
            });
        }
        Ok(Applied::done(format!(
            "{fqdn} ({}): {}",
            app.name(),
            app.state_label()
        )))
    }
}
