//! The standing access register: persistent accounts in an environment, the people who
//! own them, their reported uses, and who has standing access to production because of
//! them.

use std::collections::{BTreeMap, BTreeSet};

use andon_domain::access::{AccountUse, StandingAccount};
use andon_domain::api::{AccountInput, AccountUseInput};
use andon_domain::{EntryKind, Role};
use andon_store::{AccessEffect, Effect};
use serde_json::{Value, json};

use super::{check_debt, known_application};
use crate::input::{check_environment, check_text, instant, is_production, rfc3339};
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError};

/// Refuses a caller who may not register accounts (admins may). The HTTP layer asks
/// before it reads the body, so such a caller hears 403 whatever it sent.
pub fn may_register(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Admin])
}

/// An account's name, trimmed: 1 to 128 characters, none a control (`invalid_name`).
fn account_name(name: &str) -> Result<&str, AppError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "invalid_name",
            "an account name is 1 to 128 characters",
        ));
    }
    Ok(name)
}

/// The owners, trimmed, without blanks or repeats, sorted; at least one, none longer than
/// 128 (`missing_owner`).
fn owners(given: &[String]) -> Result<Vec<String>, AppError> {
    let owners: BTreeSet<String> = given
        .iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    if owners.is_empty() || owners.iter().any(|o| o.len() > 128) {
        return Err(AppError::bad_request(
            "missing_owner",
            "a standing account has at least one owner, a person who answers for it",
        ));
    }
    Ok(owners.into_iter().collect())
}

/// `POST /v1/access/accounts` (admin): registers a persistent account and its owners.
pub async fn register(
    app: &App,
    actor: &Actor,
    a: AccountInput,
) -> Result<StandingAccount, AppError> {
    may_register(actor)?;
    let name = account_name(&a.name)?;
    check_environment(&a.environment)?;
    if let Some(application) = &a.application {
        known_application(app, application).await?;
    }
    let owners = owners(&a.owners)?;
    let account = StandingAccount {
        name: name.to_owned(),
        ledger_index: 0,
        production: is_production(&a.environment),
        environment: a.environment,
        application: a.application,
        owners,
        registered_at: app.now(),
        retired_at: None,
        uses: 0,
    };
    let receipt = app
        .append(Fact::admin(
            EntryKind::AccountRegistered,
            actor,
            serde_json::to_value(&account).map_err(|e| AppError::unavailable(e.to_string()))?,
            Effect::Access(AccessEffect::AccountRegistered(Box::new(account.clone()))),
        ))
        .await?;
    Ok(StandingAccount {
        ledger_index: receipt.ledger_index,
        ..account
    })
}

/// The account `name`, or `not_found`.
async fn find(app: &App, name: &str) -> Result<StandingAccount, AppError> {
    app.store()
        .standing_account(name)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no standing account {name}")))
}

/// Refuses a caller who may not report account uses (admins and pipelines may). Asked
/// before the body is read, as [`may_register`].
pub fn may_report_use(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Admin, Role::Pipeline])
}

/// `POST /v1/access/accounts/{name}/uses` (a pipeline or admin: the environment or an
/// access system reporting). A use of a production account adds to the debt.
pub async fn used(
    app: &App,
    actor: &Actor,
    name: &str,
    u: AccountUseInput,
) -> Result<StandingAccount, AppError> {
    may_report_use(actor)?;
    let allowed = crate::late::permission(actor, u.late.as_ref())?;
    let account = find(app, name).await?;
    if let Some(a) = &account.application {
        actor.require_application(a, "report uses of accounts of")?;
    }
    let at = match u.at.as_deref() {
        Some(t) => instant(t)?,
        None => app.now(),
    };
    let late = crate::late::bounded(app, at, "at", allowed.as_ref())?;
    for t in [&u.actor, &u.source].into_iter().flatten() {
        check_text(t, "an actor or source")?;
    }
    let used = AccountUse {
        account: name.to_owned(),
        at,
        actor: u.actor,
        source: u.source.unwrap_or_else(|| actor.name.clone()),
        late,
    };
    let mut body = json!({"account": name, "environment": account.environment, "application": account.application,
               "at": rfc3339(Some(at)), "actor": used.actor, "source": used.source});
    if let Some(l) = &used.late {
        body["late"] = json!(l);
    }
    app.append(Fact::admin(
        EntryKind::AccountUsed,
        actor,
        body,
        Effect::Access(AccessEffect::AccountUsed(used)),
    ))
    .await?;
    if let (true, Some(a)) = (account.production, &account.application) {
        check_debt(app, a).await?;
    }
    find(app, name).await
}

/// `POST /v1/access/accounts/{name}/retire` (admin).
pub async fn retire(app: &App, actor: &Actor, name: &str) -> Result<StandingAccount, AppError> {
    actor.require(&[Role::Admin])?;
    let account = find(app, name).await?;
    if account.retired_at.is_some() {
        return Err(AppError::conflict(format!("{name} is already retired")));
    }
    let at = app.now();
    app.append(Fact::admin(
        EntryKind::AccountRetired,
        actor,
        json!({"account": name, "at": rfc3339(Some(at))}),
        Effect::Access(AccessEffect::AccountRetired {
            name: name.to_owned(),
            at,
        }),
    ))
    .await?;
    find(app, name).await
}

/// `GET /v1/access/accounts`: the register.
pub async fn accounts(app: &App, _actor: &Actor) -> Result<Vec<StandingAccount>, AppError> {
    Ok(app.store().standing_accounts().await?)
}

/// The owners of every active production account, each with those accounts, by name.
fn people(accounts: &[StandingAccount]) -> Vec<Value> {
    let mut people: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in accounts {
        if a.production && a.retired_at.is_none() {
            for o in &a.owners {
                people.entry(o.clone()).or_default().push(a.name.clone());
            }
        }
    }
    people
        .into_iter()
        .map(|(person, accounts)| json!({"person": person, "accounts": accounts}))
        .collect()
}

/// `GET /v1/access/standing`: the people with standing access to production (owners of
/// every active account in a production environment), with their accounts. Empty is the
/// goal.
pub async fn standing(app: &App, _actor: &Actor) -> Result<Vec<Value>, AppError> {
    Ok(people(&app.store().standing_accounts().await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, production: bool, owners: &[&str]) -> StandingAccount {
        StandingAccount {
            name: name.into(),
            ledger_index: 0,
            environment: if production { "prod" } else { "staging" }.into(),
            production,
            application: None,
            owners: owners.iter().map(|o| (*o).to_owned()).collect(),
            registered_at: 0,
            retired_at: None,
            uses: 0,
        }
    }

    #[test]
    fn an_account_name_is_short_printable_text() {
        assert_eq!(account_name("  root@db-1 ").unwrap(), "root@db-1");
        assert_eq!(account_name(" ").unwrap_err().code, "invalid_name");
        assert!(account_name(&"a".repeat(129)).is_err());
        assert!(account_name("a\u{7}b").is_err());
    }

    #[test]
    fn owners_are_trimmed_unique_and_required() {
        let given = vec![" bob ".into(), "ann".into(), "".into(), "bob".into()];
        assert_eq!(owners(&given).unwrap(), vec!["ann", "bob"]);
        assert_eq!(owners(&["  ".into()]).unwrap_err().code, "missing_owner");
        assert!(owners(&["x".repeat(129)]).is_err());
    }

    #[test]
    fn standing_access_is_active_production_accounts_by_owner() {
        let mut retired = account("old", true, &["ann"]);
        retired.retired_at = Some(1);
        let accounts = vec![
            account("deploy", true, &["bob", "ann"]),
            account("db", true, &["ann"]),
            account("stage", false, &["carl"]),
            retired,
        ];
        assert_eq!(
            people(&accounts),
            vec![
                json!({"person": "ann", "accounts": ["deploy", "db"]}),
                json!({"person": "bob", "accounts": ["deploy"]}),
            ]
        );
    }
}
