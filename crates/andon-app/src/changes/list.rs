//! Lookups and listings: change records, deployments and the outbound notification log.

use andon_domain::Role;
use andon_domain::change::{Change, Deployment};
use andon_domain::query::SortKey;
use andon_domain::query::changes::ListQuery;
use andon_store::{Notification, Sort};

use crate::changes::authorized;
use crate::changes::gate::find_change;
use crate::{Actor, App, AppError};

/// How many rows a listing answers when the query does not say.
const DEFAULT_LIMIT: u32 = 100;

/// The number of rows a listing answers.
fn limit(q: &ListQuery) -> u32 {
    q.limit.unwrap_or(DEFAULT_LIMIT)
}

/// The columns a listing can be sorted by: (key, column).
type Sortable = [(SortKey, &'static str)];

const CHANGE_SORTS: &Sortable = &[
    (SortKey::Recorded, "ledger_idx"),
    (SortKey::Application, "application"),
    (SortKey::Environment, "environment"),
    (SortKey::Class, "class"),
    (SortKey::Status, "status"),
];

const DEPLOYMENT_SORTS: &Sortable = &[
    (SortKey::Recorded, "ledger_idx"),
    (SortKey::Deployed, "deployed_at"),
    (SortKey::Application, "application"),
    (SortKey::Environment, "environment"),
    (SortKey::State, "state"),
];

/// The order `q` asks for, or `bad_query` naming the keys this listing takes.
fn sort(q: &ListQuery, listing: &str, sortable: &Sortable) -> Result<Sort, AppError> {
    let key = q.sort.unwrap_or(SortKey::Recorded);
    let Some((_, column)) = sortable.iter().find(|(k, _)| *k == key) else {
        let keys: Vec<&str> = sortable.iter().map(|(k, _)| k.as_str()).collect();
        return Err(AppError::bad_request(
            "bad_query",
            format!(
                "{listing} cannot be sorted by {}: sort by {}",
                key.as_str(),
                keys.join(", ")
            ),
        ));
    };
    Ok(Sort {
        column,
        descending: key.descending(q.order),
    })
}

/// The deployment `id`, or `not_found`.
pub(crate) async fn find_deployment(app: &App, id: &str) -> Result<Deployment, AppError> {
    app.store()
        .deployment(id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no deployment {id}")))
}

/// The change record `id` (any authenticated caller), each approval with its approver's
/// provenance (docs/identities.md).
pub async fn show(app: &App, _actor: &Actor, id: &str) -> Result<Change, AppError> {
    let mut change = find_change(app, id).await?;
    let authors = crate::changes::rfc::change_authors(app, &change).await?;
    change.approvals =
        crate::changes::provenance::approvals_with_provenance(app, &change, &authors).await?;
    Ok(change)
}

/// Change records, newest recorded first unless `sort` says otherwise, by application
/// and environment, paged by `before`.
pub async fn changes(app: &App, _actor: &Actor, q: &ListQuery) -> Result<Vec<Change>, AppError> {
    Ok(app
        .store()
        .changes(
            q.application.as_deref(),
            q.environment.as_deref(),
            sort(q, "changes", CHANGE_SORTS)?,
            q.before,
            limit(q),
        )
        .await?)
}

/// The deployment `id` (any authenticated caller).
pub async fn deployment(app: &App, _actor: &Actor, id: &str) -> Result<Deployment, AppError> {
    find_deployment(app, id).await
}

/// Deployments, newest recorded first unless `sort` says otherwise, by application and
/// environment, paged by `before`.
pub async fn deployments(
    app: &App,
    _actor: &Actor,
    q: &ListQuery,
) -> Result<Vec<Deployment>, AppError> {
    Ok(app
        .store()
        .deployments(
            q.application.as_deref(),
            q.environment.as_deref(),
            sort(q, "deployments", DEPLOYMENT_SORTS)?,
            q.before,
            limit(q),
        )
        .await?)
}

/// The outbound delivery log, newest first (admin, auditor). The role is checked before
/// a malformed query is reported.
pub async fn notifications<E: From<AppError>>(
    app: &App,
    actor: &Actor,
    query: Result<ListQuery, E>,
) -> Result<Vec<Notification>, E> {
    let q = authorized(actor, &[Role::Admin, Role::Auditor], query)?;
    let rows = app.store().notifications(limit(&q)).await;
    Ok(rows.map_err(AppError::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<u32>) -> ListQuery {
        ListQuery {
            application: None,
            environment: None,
            before: None,
            limit,
            format: None,
            sort: None,
            order: None,
        }
    }

    #[test]
    fn a_listing_answers_a_hundred_rows_unless_told() {
        assert_eq!(limit(&query(None)), 100);
        assert_eq!(limit(&query(Some(7))), 7);
    }

    #[test]
    fn times_sort_newest_first_and_names_a_to_z_unless_told() {
        let mut q = query(None);
        assert_eq!(
            sort(&q, "deployments", DEPLOYMENT_SORTS).ok(),
            Some(Sort::RECORDED)
        );
        q.sort = Some(SortKey::Deployed);
        let s = sort(&q, "deployments", DEPLOYMENT_SORTS).expect("sortable");
        assert_eq!((s.column, s.descending), ("deployed_at", true));
        q.sort = Some(SortKey::Application);
        let s = sort(&q, "changes", CHANGE_SORTS).expect("sortable");
        assert_eq!((s.column, s.descending), ("application", false));
        q.order = Some(andon_domain::query::SortOrder::Desc);
        assert!(
            sort(&q, "changes", CHANGE_SORTS)
                .expect("sortable")
                .descending
        );
        q.sort = Some(SortKey::State);
        let e = sort(&q, "changes", CHANGE_SORTS).expect_err("not a change column");
        assert_eq!(e.code, "bad_query");
    }
}
