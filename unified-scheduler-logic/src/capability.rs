//! `Capability`: FIFO queueing (replay) or priority queueing (production).

/// How a state machine orders the tasks waiting for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Grant each address in arrival order. Block verification (replay): the result must
    /// equal executing the block's transactions in their order, so nobody may overtake.
    FifoQueueing,
    /// Grant each address in ascending task id, letting a higher-priority task take an
    /// address back from a lower-priority task that is not running yet (*reblocking*).
    /// Block production. A strict superset of FIFO (with ids given in arrival order it
    /// behaves the same), at a higher cost: it keeps the holders themselves, not counts.
    PriorityQueueing,
}
