//! Times `commit_batch` alone: `cargo run --release -p andon-store --example commit_probe`.
use andon_store::{Append, Batch, Effect, Store};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = std::env::temp_dir().join(format!("andon-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}/p.db", dir.display()));
    let s = Store::connect(&url).await.expect("connect");
    let per: u64 = std::env::var("PER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let t = std::time::Instant::now();
    let mut next = s.ledger_size().await.expect("size");
    for _ in 0..100 {
        let appends = (0..per)
            .map(|i| {
                let idx = next + i;
                Append {
                    index: idx,
                    kind: "evidence",
                    entry: vec![b'x'; 500],
                    leaf_hash: [idx as u8; 32],
                    time_ms: 1,
                    effect: Effect::Evidence {
                        id: format!("{idx:064x}"),
                        application: "a".into(),
                        run: None,
                        predicate_type: "p".into(),
                        signer: "s".into(),
                        keyid: "k".into(),
                        subjects: vec![("n".into(), format!("{idx:064x}"))],
                        document: vec![b'd'; 900],
                        summary: None,
                        commits: vec![],
                        scm: None,
                        keyless: None,
                        components: Default::default(),
                    },
                }
            })
            .collect();
        next += per;
        s.commit_batch(&Batch {
            appends,
            checkpoint: Some((next, [0; 32], "n".into())),
        })
        .await
        .expect("commit");
    }
    let el = t.elapsed().as_secs_f64();
    println!(
        "{} entries in {:.3}s: {:.0}/s, {:.2} ms per batch of {per}",
        100 * per,
        el,
        (100 * per) as f64 / el,
        el * 10.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
