//! Integration tests of `banking-stage`.

mod bank;
mod common;
mod cost;
mod ledger;
mod pipeline;
mod prio_graph;
mod replay;
mod scheduler;
