//! `matelot app start|stop|restart APP`: a run-state change through the one path. Stop is
//! moderate (y/N on a terminal, `--yes` in scripts); start and restart are mild. An app
//! already in the state asked for is left alone; a busy one is refused.

use super::{check_report, human, report};
use crate::Ctx;
use crate::cloudron::Lifecycle;
use crate::cloudron::models::App;
use crate::cloudron::ops;
use crate::error::{Error, Result};
use crate::exec::app::RunStateChange;
use crate::exec::{Batch, Consent, outcome};
use crate::journal::AppRef;

pub async fn start(ctx: &Ctx, query: &str) -> Result<()> {
    change(ctx, query, Lifecycle::Start, false).await
}

pub async fn stop(ctx: &Ctx, query: &str, yes: bool) -> Result<()> {
    change(ctx, query, Lifecycle::Stop, yes).await
}

pub async fn restart(ctx: &Ctx, query: &str) -> Result<()> {
    change(ctx, query, Lifecycle::Restart, false).await
}

async fn change(ctx: &Ctx, query: &str, action: Lifecycle, yes: bool) -> Result<()> {
    let c = ctx.world()?.cloudron()?;
    let app = super::facts::resolve_app(c, query).await?;
    let who = format!("{} ({})", app.fqdn, app.name());
    let verb = action.segment();
    if ops::already_done(&app, action) {
        ctx.out.info(format!(
            "{who} is already {}; nothing to do",
            app.state_label()
        ));
        return report(
            ctx,
            &app,
            verb,
            false,
            &format!("{who}: already {}", app.state_label()),
        );
    }
    refuse_busy(&app, &who)?;
    if ctx.check() {
        let plan = format!(
            "would {verb} {who}: POST /api/v1/apps/{}/{verb}, then wait for the task (up to {}) \
             and check the app's run state",
            app.id,
            human(c.task_timeout())
        );
        return check_report(ctx, &app, verb, &plan);
    }
    let run = ctx.begin_run().await?;
    let question = match action {
        Lifecycle::Stop => format!("Stop {who}? Its users lose access until it is started again"),
        _ => String::new(),
    };
    let action = RunStateChange {
        client: c.clone(),
        app: AppRef {
            app_id: app.id.clone(),
            fqdn: app.fqdn.clone(),
        },
        action,
        undoes: None,
    };
    let consent = Consent {
        yes,
        ..Consent::default()
    };
    let done = run
        .execute(Batch::one(action, consent, question))
        .await?
        .unwrap_or_default();
    outcome(&done)?;
    let now = c.get_app(&app.id).await?;
    report(
        ctx,
        &now,
        verb,
        true,
        &format!("{who}: {}", now.state_label()),
    )
}

/// A busy app (a task running) is refused: wait for it, nothing was changed.
fn refuse_busy(app: &App, who: &str) -> Result<()> {
    if !app.is_busy() {
        return Ok(());
    }
    let task = app
        .task_id
        .as_ref()
        .map(|t| format!(", task {t}"))
        .unwrap_or_default();
    Err(Error::failed(format!(
        "{who} is busy ({}{task}): wait for it to finish (`matelot app show {}`) and try \
         again; nothing was changed",
        app.state_label(),
        app.fqdn
    )))
}
