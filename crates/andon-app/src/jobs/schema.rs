//! Rolling upgrades: a running server watches the database's schema. A newer Andon's
//! expand migrations leave it writing; a contract migration (one that raises the oldest
//! schema version that may write past this server's) stops its writes and turns its
//! readiness to 503, saying why, so a load balancer sends everything to the newer servers.

use crate::App;

/// Reads the schema every `every` and stops or resumes this server's writes accordingly.
pub async fn watch(app: App, every: std::time::Duration) {
    let known = andon_store::schema_known(app.store().backend());
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let state = match app.store().schema_state().await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, "reading the schema version failed");
                continue;
            }
        };
        let refusal = state.refuses(known);
        let mut stopped = app
            .0
            .schema_stopped
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if refusal.is_some() != stopped.is_some() {
            match &refusal {
                Some(why) => tracing::error!(reason = %why, "this server stopped writing"),
                None => tracing::info!("the schema lets this server write again"),
            }
        }
        *stopped = refusal;
    }
}
