//! Where the time of one evaluation goes: `cargo run --release -p andon-policy --example
//! profile -- <gate input or decision JSON>`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: profile <input.json>")?;
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let input = v.pointer("/decision/input").cloned().unwrap_or(v);
    let policy = andon_policy::Policy::compile(andon_policy::Bundle::builtin_default())?;
    let n = 300;
    let t = Instant::now();
    for _ in 0..n {
        let _ = regorus::Value::from(input.clone());
    }
    println!("input conversion: {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n {
        let text = serde_json::to_string(&input)?;
        let _ = regorus::Value::from_json_str(&text)?;
    }
    println!("input conversion through text: {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n {
        let _ = policy.evaluate(&input);
    }
    println!("evaluate: {:?}", t.elapsed() / n);
    for c in policy.controls() {
        let mut b = andon_policy::Bundle::builtin_default();
        b.disabled = policy
            .controls()
            .iter()
            .filter(|x| x.id != c.id)
            .map(|x| x.id.clone())
            .collect();
        let p = andon_policy::Policy::compile(b)?;
        let t = Instant::now();
        for _ in 0..n {
            let _ = p.evaluate(&input);
        }
        println!("  {}: {:?}", c.id, t.elapsed() / n);
    }
    Ok(())
}
