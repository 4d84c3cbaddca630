//! Times a start on a large ledger: `cargo run --release -p andon-app --example start_probe
//! [database url]` (`ENTRIES`, default 1,000,000). It writes the entries straight through the
//! store in batches of 10,000, each with its signed checkpoint (realistic entries of about
//! 300 bytes), then times `App::open` twice (each start checks the database against the checkpoint
//! file, which the first start of all writes). Every start walks every entry (see
//! `andon_app::ledger::start`). Given a database an earlier run wrote, it only starts it
//! again (in a fresh process, with the checkpoint file left in the temporary directory).

use andon_app::{App, Config};
use andon_ledger::{Checkpoint, LogSigner, MerkleTree, leaf_hash};
use andon_store::{Append, Batch, Effect, Store};

const SEED: [u8; 32] = [7; 32];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = std::env::temp_dir().join("andon-start-probe");
    std::fs::create_dir_all(&dir).expect("dir");
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}/probe.db", dir.display()));
    let n: u64 = std::env::var("ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let store = Store::connect(&url).await.expect("connect");
    let probe = LogSigner::new("x", SEED).verifier().to_string();
    let origin = store
        .meta_init(
            "log_origin",
            &format!("andon.local/{}", probe.split('+').nth(1).unwrap_or("log")),
        )
        .await
        .expect("origin");
    let signer = LogSigner::new(origin.clone(), SEED);
    store
        .meta_init("log_verifier_key", &signer.verifier().to_string())
        .await
        .expect("key");
    let began = std::time::Instant::now();
    let mut tree = MerkleTree::new();
    // A database written by an earlier run is only started again.
    if store.ledger_size().await.expect("size") > 0 {
        tree = MerkleTree::from_leaf_hashes(std::iter::repeat_n([0; 32], n as usize));
    }
    while tree.size() < n {
        let from = tree.size();
        let to = (from + 10_000).min(n);
        let appends: Vec<Append> = (from..to)
            .map(|i| {
                let entry = serde_json::to_vec(&serde_json::json!({
                    "v": 1, "kind": "application.created", "time": "2026-11-24T10:00:00Z",
                    "actor": "admin",
                    "body": {"name": format!("app-{i:09}"), "team": "payments-platform",
                             "note": "x".repeat(160)},
                }))
                .expect("json");
                let leaf = leaf_hash(&entry);
                tree.push(leaf);
                Append {
                    index: i,
                    kind: "application.created",
                    entry,
                    leaf_hash: leaf,
                    time_ms: 1,
                    effect: Effect::Settings(vec![]),
                }
            })
            .collect();
        let cp = signer.sign(&Checkpoint {
            origin: origin.clone(),
            size: tree.size(),
            root: tree.root(),
        });
        store
            .commit_batch(&Batch {
                appends,
                checkpoint: Some((cp.checkpoint.size, cp.checkpoint.root, cp.note)),
            })
            .await
            .expect("commit");
    }
    store.close().await;
    println!(
        "a ledger of {n} entries ready in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    for run in [
        "a start",
        "a second start in the same process (the first server still runs its start-up jobs)",
    ] {
        let mut config = Config::new(url.clone(), SEED);
        config.checkpoint_file = Some(dir.join("probe.checkpoint"));
        let began = std::time::Instant::now();
        let started = App::open(config).await.expect("start");
        println!(
            "{run}: {:.2} s for {} entries",
            began.elapsed().as_secs_f64(),
            started.app.latest().checkpoint.size
        );
    }
}
