//! Side-by-side comparisons of this project's crates with the Agave 4.2.2 crates they
//! replace, on the same inputs, interleaved in one process (each side's median over
//! alternating rounds, and the ratio ours/Agave's):
//!
//! * [`locks`]: `ThreadAwareAccountLocks` (`scheduling-utils` vs `agave-scheduling-utils`);
//! * [`unified_scheduler`]: `SchedulingStateMachine` (`unified-scheduler-logic` vs
//!   `solana-unified-scheduler-logic`).
//!
//! `cargo run --release --manifest-path benches/agave-compare/Cargo.toml [FILTER]`: an
//! optional argument keeps only the cases whose name contains it (or a whole comparison,
//! if its name, `locks` or `unified-scheduler`, contains it).
#![allow(clippy::print_stdout)]

mod locks;
mod unified_scheduler;

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    locks::run("locks", &filter);
    unified_scheduler::run("unified-scheduler", &filter);
}
