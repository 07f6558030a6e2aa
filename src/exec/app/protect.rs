//! `app protect|unprotect` (and their undo): a protection kept in the journal, so it outlives
//! a configuration edit. Protecting is mild; lifting a protection is moderate.

use async_trait::async_trait;

use crate::core::guard::Tier;
use crate::exec::action::{Action, Applied, Failure, OpCtx};
use crate::journal::{AppRef, OpId, OpKind, OpPlan, RestorePoint, UndoAction, UndoPlan};

pub struct Protection {
    pub app: AppRef,
    /// Protect (true) or lift the protection (false).
    pub protect: bool,
    pub undoes: Option<(OpId, OpKind)>,
}

#[async_trait]
impl Action for Protection {
    fn plan(&self) -> OpPlan {
        match (self.undoes, self.protect) {
            (Some((undoes, of_kind)), protected) => OpPlan::Undo(UndoPlan {
                undoes,
                of_kind,
                action: UndoAction::SetProtection {
                    app: self.app.clone(),
                    protected,
                },
            }),
            (None, true) => OpPlan::AppProtect(self.app.clone()),
            (None, false) => OpPlan::AppUnprotect(self.app.clone()),
        }
    }

    fn target(&self) -> String {
        self.app.fqdn.clone()
    }

    fn tier(&self) -> Tier {
        if self.protect {
            Tier::Mild
        } else {
            Tier::Moderate
        }
    }

    async fn apply(&self, op: &OpCtx<'_>, _rp: Option<&RestorePoint>) -> Result<Applied, Failure> {
        let j = op.journal();
        let fqdn = &self.app.fqdn;
        if self.protect {
            let added = j
                .protect(fqdn, Some(&format!("app {}", self.app.app_id)))
                .map_err(Failure::not_applied)?;
            Ok(Applied::done(if added {
                format!("{fqdn} is now protected: uninstall and restore refuse it")
            } else {
                format!("{fqdn} was already protected")
            }))
        } else {
            j.unprotect(fqdn).map_err(Failure::not_applied)?;
            Ok(Applied::done(format!(
                "{fqdn} is no longer protected (by `app protect`)"
            )))
        }
    }
}

/// Why `app` is protected, if it is: the configuration first, then the journal.
pub fn protected_by(
    cfg: &crate::config::Config,
    journal: &crate::journal::Journal,
    app: &crate::cloudron::models::App,
) -> crate::error::Result<Option<String>> {
    let names = [&app.id, &app.fqdn, &app.subdomain];
    if let Some(cc) = &cfg.cloudron
        && let Some(p) = cc
            .protect
            .iter()
            .find(|p| names.iter().any(|n| n.eq_ignore_ascii_case(p.trim())))
    {
        return Ok(Some(format!(
            "{} is protected by the configuration ([cloudron] protect = [{p:?}]); remove it \
             from there first if you really mean it",
            app.fqdn
        )));
    }
    if journal.is_protected(&app.fqdn)? {
        return Ok(Some(format!(
            "{} is protected (`matelot app protect`); run `matelot app unprotect {}` first if \
             you really mean it",
            app.fqdn, app.fqdn
        )));
    }
    Ok(None)
}
