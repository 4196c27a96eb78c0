//! Inputs and a small timing harness shared by the criterion benches and by
//! `benches/agave-compare`, so that every comparison runs the same inputs.
//!
//! The criterion benches live in `benches/benches/*.rs` (`cargo bench -p benches`).
//! `benches/agave-compare` (not a workspace member, so CI never builds it) runs, interleaved
//! in one process, the [`lock_cases`] through this project's `ThreadAwareAccountLocks` and
//! through Agave's `agave-scheduling-utils`, and the [`usl_cases`] through this project's
//! `unified-scheduler-logic` and through Agave's `solana-unified-scheduler-logic`, and
//! prints the ratios. [`accounts_db_cases`] are the inputs of the `accounts_db` bench
//! (`accounts-db-lite`), which has no Agave counterpart in `agave-compare` yet.
//! [`conflict_free_batches`] is the baseline the `compare` program (`cargo run --release
//! -p benches --bin compare`) runs beside this project's replayer and pipeline, on the
//! blocks of [`compare_blocks`]; `replay_once` replays one of those blocks with one system,
//! for a profiler (`valgrind --tool=callgrind`).

pub mod accounts_db_cases;
pub mod compare_blocks;
pub mod conflict_free_batches;
pub mod lock_cases;
pub mod paired_timing;
pub mod usl_cases;
