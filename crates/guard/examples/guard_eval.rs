//! Evaluates a policy on a dataset without the CLI:
//! `cargo run -p airisk-guard --release --example guard_eval -- POLICY.yaml DATASET.jsonl`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (policy, data) = match (args.get(1), args.get(2)) {
        (Some(p), Some(d)) => (p, d),
        _ => return Err("usage: guard_eval POLICY.yaml DATASET.jsonl".into()),
    };
    let guard = airisk_guard::Guard::from_yaml(&std::fs::read_to_string(policy)?)?;
    for r in airisk_guard::eval::evaluate_dataset(&guard, &std::fs::read_to_string(data)?)? {
        println!("{}", r.to_markdown());
    }
    Ok(())
}
