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
    let ids: Vec<(String, String)> = policy
        .controls()
        .iter()
        .map(|c| (c.id.clone(), c.package.clone()))
        .collect();
    let mut b = andon_policy::Bundle::builtin_default().resolved();
    b.modules
        .insert("gate_all.rego".into(), aggregate_module(&ids));
    let mut engine = regorus::Engine::new();
    for (path, text) in &b.modules {
        engine.add_policy(path.clone(), text.clone())?;
    }
    engine.add_data(regorus::Value::from(
        serde_json::json!({"andon": {"params": {}}}),
    ))?;
    let _ = engine.eval_rule("data.andon.gate_all.r0".into());
    let value = regorus::Value::from(input.clone());
    let t = Instant::now();
    for _ in 0..n {
        let mut e = engine.clone();
        e.set_input(value.clone());
        let r = e.eval_query("data.andon.gate_all".into(), false)?;
        assert!(!r.result.is_empty());
    }
    println!(
        "one query for all controls (input converted once): {:?}",
        t.elapsed() / n
    );
    let t = Instant::now();
    for _ in 0..n {
        let mut e = engine.clone();
        e.set_input(value.clone());
        for i in 0..ids.len() {
            let _ = e.eval_rule(format!("data.andon.gate_all.r{i}"));
        }
    }
    println!(
        "nine eval_rule calls (input converted once): {:?}",
        t.elapsed() / n
    );
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

/// One query for every control, for comparison.
fn aggregate_module(ids: &[(String, String)]) -> String {
    let mut m = String::from("package andon.gate_all\n\nimport rego.v1\n\n");
    for (i, (_, pkg)) in ids.iter().enumerate() {
        m.push_str(&format!("r{i} := data.{pkg}.result\n\n"));
    }
    m
}
