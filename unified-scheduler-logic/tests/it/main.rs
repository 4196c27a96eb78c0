//! Integration tests of `unified-scheduler-logic`: named scenarios in both modes, priority
//! mode's reblocking, and property tests of random schedules against a naive model.

mod common;
mod model;
mod properties;
mod reblocking;
mod scenarios;
