//! Keeps PostgreSQL's planner statistics fresh while the tables grow
//! ([`andon_store::Store::refresh_statistics`]): one pass every [`EVERY`].

use std::time::Duration;

use crate::App;

/// How often the tables are checked; a check that finds nothing costs one small query. The
/// generic plans PostgreSQL keeps for prepared statements are made again only when the
/// statistics change: on a database that starts empty and fills fast, a check every 30 s
/// left plans made for empty tables in use for half a minute (searches at 3 ms instead of
/// 0.2 on `bench load`'s mix).
pub const EVERY: Duration = Duration::from_secs(5);

/// Analyzes the tables whose statistics went stale, every [`EVERY`].
pub async fn run(app: App) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        match app.store().refresh_statistics().await {
            Ok(tables) if !tables.is_empty() => {
                tracing::debug!(?tables, "refreshed planner statistics")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "refreshing planner statistics failed"),
        }
    }
}
