//! The program's subcommands beyond the default run.

pub(crate) mod replay;
pub(crate) mod trace;
