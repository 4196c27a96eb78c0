//! `Program` and `ProgramRegistry`: the built-in programs a batch can call. Another chain
//! adds its native programs here.

use std::sync::Arc;

use ahash::AHashMap;
use sdk_lite::{InstructionError, Pubkey};

use crate::instruction_context::InstructionContext;

/// A built-in program: native code that runs one instruction against its accounts.
///
/// It may read and change any account of the instruction through the context; the runtime
/// checks afterwards that it kept the rules (only the owner debits or rewrites an account,
/// read-only accounts are unchanged, lamports are balanced) and charges compute units it
/// reports with [`InstructionContext::consume_compute_units`].
pub trait Program: Send + Sync {
    /// Runs one instruction.
    ///
    /// # Errors
    /// Whatever makes the instruction fail; the transaction then fails with it, and commits
    /// only its fee (and nonce advance).
    fn execute(&self, context: &mut InstructionContext<'_>) -> Result<(), InstructionError>;
}

/// The programs a batch may call, by id (the lite program cache: built once, shared by
/// every batch).
#[derive(Clone, Default)]
pub struct ProgramRegistry {
    programs: AHashMap<Pubkey, Arc<dyn Program>>,
}

impl ProgramRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the program with id `program_id`.
    pub fn register(&mut self, program_id: Pubkey, program: Arc<dyn Program>) {
        self.programs.insert(program_id, program);
    }

    /// The program with id `program_id`.
    pub fn get(&self, program_id: &Pubkey) -> Option<&Arc<dyn Program>> {
        self.programs.get(program_id)
    }

    /// A registry holding this crate's built-in programs: the system program, the compute
    /// budget program and the bench program.
    pub fn with_builtins() -> Self {
        let mut registry = Self::new();
        registry.register(
            sdk_lite::system_program::ID,
            Arc::new(crate::system_program::SystemProgram),
        );
        registry.register(
            sdk_lite::compute_budget::ID,
            Arc::new(crate::compute_budget::ComputeBudgetProgram),
        );
        registry.register(
            crate::bench_program::BENCH_PROGRAM_ID,
            Arc::new(crate::bench_program::BenchProgram),
        );
        registry
    }

    /// Whether `program_id` is a built-in program (it gets the built-in compute budget).
    pub fn is_builtin(&self, program_id: &Pubkey) -> bool {
        self.programs.contains_key(program_id)
    }
}

impl std::fmt::Debug for ProgramRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<_> = self.programs.keys().collect();
        ids.sort();
        f.debug_struct("ProgramRegistry")
            .field("programs", &ids)
            .finish()
    }
}
