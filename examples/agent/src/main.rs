//! `example-agent [SEED...]`: run the example agent and print its TraceCard,
//! confirmed by true replay. `example-agent --write-examples DIR` writes a few
//! sessions as native traces (how `examples/traces/agent-*.jsonl` were made).

use std::collections::BTreeSet;

use tracecard_core::Compiler;
use tracecard_example_agent::{AgentReplayer, Task, run};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(pos) = args.iter().position(|a| a == "--write-examples") {
        let dir = args
            .get(pos + 1)
            .ok_or("--write-examples needs a directory")?;
        for seed in [3u64, 7, 11] {
            let task = Task::generate(seed);
            let r = run(&task, &BTreeSet::new());
            std::fs::write(
                format!("{dir}/agent-{seed}.jsonl"),
                tracecard_core::native::to_jsonl(&r.trace)?,
            )?;
        }
        return Ok(());
    }
    let seeds: Vec<u64> = if args.is_empty() {
        vec![7]
    } else {
        args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?
    };
    for seed in seeds {
        let task = Task::generate(seed);
        let r = run(&task, &BTreeSet::new());
        let replayer = AgentReplayer { task };
        let card = Compiler::new().replayer(&replayer).compile(&r.trace)?;
        print!("{}", card.to_yaml()?);
    }
    Ok(())
}
