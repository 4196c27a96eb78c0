//! `PrioGraph`: the look-ahead window of the prio-graph scheduler, as a dependency graph.
//!
//! Transactions enter in priority order (best first). Each one depends, per account, on
//! the transactions before it that conflict with it there: a writer on the last writer
//! and on every reader since; a reader on the last writer. So an edge always points from a
//! higher-priority transaction to a lower one, and per account the graph is a chain of
//! writers with fans of readers between them. A transaction is *ready* when everything it
//! depends on has been released; [`pop`](PrioGraph::pop) yields the best ready one.
//!
//! Releasing ([`release`](PrioGraph::release)) is the caller's decision: the scheduler
//! releases a transaction it scheduled (its dependents may follow it to the same worker in
//! the same pass) and never releases one it could not schedule, so that one holds back
//! every lower-priority transaction that conflicts with it (the priority guard).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ahash::AHashMap;
use sdk_lite::Pubkey;

use crate::transaction_container::TransactionId;

/// Identifies a node for the pass it lives in.
pub(crate) type NodeIndex = usize;

#[derive(Debug)]
struct Node<T> {
    id: TransactionId,
    priority: u64,
    /// `None` once popped.
    transaction: Option<T>,
    /// Dependencies not yet released.
    blocked_by: u32,
    dependents: Vec<NodeIndex>,
}

/// Per account: the last writer and the readers since.
#[derive(Debug, Default)]
struct AccountTail {
    last_writer: Option<NodeIndex>,
    readers_since: Vec<NodeIndex>,
}

/// The window's dependency graph (see the module doc). Built fresh for each pass.
#[derive(Debug)]
pub(crate) struct PrioGraph<T> {
    nodes: Vec<Node<T>>,
    tails: AHashMap<Pubkey, AccountTail>,
    /// Ready nodes, best first: (priority, earliest id).
    ready: BinaryHeap<(u64, Reverse<TransactionId>, NodeIndex)>,
    /// Nodes inserted and not yet popped.
    unpopped: usize,
}

impl<T> Default for PrioGraph<T> {
    fn default() -> Self {
        Self {
            nodes: Vec::new(),
            tails: AHashMap::new(),
            ready: BinaryHeap::new(),
            unpopped: 0,
        }
    }
}

impl<T> PrioGraph<T> {
    /// Adds a transaction that accesses `accounts` (key, writable). It must not be better
    /// than any transaction inserted before it in this pass.
    pub(crate) fn insert<'a>(
        &mut self,
        id: TransactionId,
        priority: u64,
        transaction: T,
        accounts: impl Iterator<Item = (&'a Pubkey, bool)>,
    ) {
        let index = self.nodes.len();
        let mut dependencies: Vec<NodeIndex> = Vec::new();
        for (key, writable) in accounts {
            let tail = self.tails.entry(*key).or_default();
            if writable {
                if tail.readers_since.is_empty() {
                    dependencies.extend(tail.last_writer);
                } else {
                    dependencies.append(&mut tail.readers_since);
                }
                tail.last_writer = Some(index);
            } else {
                dependencies.extend(tail.last_writer);
                tail.readers_since.push(index);
            }
        }
        dependencies.sort_unstable();
        dependencies.dedup();
        let mut blocked_by = 0;
        for &dependency in &dependencies {
            // A released and popped dependency no longer blocks anything.
            let node = &mut self.nodes[dependency];
            if node.transaction.is_some() || node.blocked_by != u32::MAX {
                node.dependents.push(index);
                blocked_by += 1;
            }
        }
        self.nodes.push(Node {
            id,
            priority,
            transaction: Some(transaction),
            blocked_by,
            dependents: Vec::new(),
        });
        self.unpopped += 1;
        if blocked_by == 0 {
            self.ready.push((priority, Reverse(id), index));
        }
    }

    /// Takes the best ready transaction: `(node, id, priority, transaction)`.
    pub(crate) fn pop(&mut self) -> Option<(NodeIndex, TransactionId, u64, T)> {
        let (priority, Reverse(id), index) = self.ready.pop()?;
        let transaction = self.nodes[index]
            .transaction
            .take()
            .expect("invariant: a ready node is popped once");
        self.unpopped -= 1;
        Some((index, id, priority, transaction))
    }

    /// Releases a popped node: the transactions that depended only on released nodes
    /// become ready.
    pub(crate) fn release(&mut self, index: NodeIndex) {
        // u32::MAX marks "released" so later inserts do not wait on it.
        self.nodes[index].blocked_by = u32::MAX;
        let dependents = std::mem::take(&mut self.nodes[index].dependents);
        for dependent in dependents {
            let node = &mut self.nodes[dependent];
            node.blocked_by -= 1;
            if node.blocked_by == 0 {
                self.ready
                    .push((node.priority, Reverse(node.id), dependent));
            }
        }
    }

    /// Whether some transaction is ready.
    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Transactions inserted and not popped.
    pub(crate) fn len(&self) -> usize {
        self.unpopped
    }

    /// Takes every transaction not popped (at the end of a pass), as `(id, priority,
    /// transaction)`, and empties the graph.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = (TransactionId, u64, T)> + '_ {
        self.tails.clear();
        self.ready.clear();
        self.unpopped = 0;
        self.nodes.drain(..).filter_map(|node| {
            node.transaction
                .map(|transaction| (node.id, node.priority, transaction))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<Pubkey> {
        (0..n).map(|_| Pubkey::new_unique()).collect()
    }

    fn pop_all_releasing(graph: &mut PrioGraph<&'static str>) -> Vec<&'static str> {
        let mut order = Vec::new();
        while let Some((index, _, _, name)) = graph.pop() {
            order.push(name);
            graph.release(index);
        }
        order
    }

    #[test]
    fn independent_transactions_pop_in_priority_order() {
        let k = keys(3);
        let mut graph = PrioGraph::default();
        graph.insert(0, 9, "a", [(&k[0], true)].into_iter());
        graph.insert(1, 5, "b", [(&k[1], true)].into_iter());
        graph.insert(2, 7, "c", [(&k[2], true)].into_iter());
        assert_eq!(pop_all_releasing(&mut graph), vec!["a", "c", "b"]);
    }

    #[test]
    fn a_conflict_waits_for_its_release() {
        let k = keys(2);
        let mut graph = PrioGraph::default();
        graph.insert(0, 9, "high", [(&k[0], true)].into_iter());
        graph.insert(1, 8, "low", [(&k[0], false), (&k[1], true)].into_iter());
        graph.insert(2, 1, "free", [(&k[1], false)].into_iter());
        let (high, ..) = graph.pop().unwrap();
        // "low" waits for "high"; "free" (reads k1) waits for "low" (writes k1).
        assert!(!graph.has_ready());
        graph.release(high);
        assert_eq!(graph.pop().map(|(_, _, _, name)| name), Some("low"));
        assert!(!graph.has_ready());
    }

    #[test]
    fn readers_share_and_a_writer_waits_for_all_of_them() {
        let k = keys(1);
        let mut graph = PrioGraph::default();
        graph.insert(0, 9, "r1", [(&k[0], false)].into_iter());
        graph.insert(1, 8, "r2", [(&k[0], false)].into_iter());
        graph.insert(2, 7, "w", [(&k[0], true)].into_iter());
        let (r1, ..) = graph.pop().unwrap();
        let (r2, ..) = graph.pop().unwrap();
        graph.release(r1);
        assert!(
            !graph.has_ready(),
            "the writer waits for the second reader too"
        );
        graph.release(r2);
        assert_eq!(graph.pop().map(|(_, _, _, name)| name), Some("w"));
    }

    #[test]
    fn an_unreleased_node_holds_back_its_followers_and_drain_returns_them() {
        let k = keys(2);
        let mut graph = PrioGraph::default();
        graph.insert(0, 9, "blocked", [(&k[0], true)].into_iter());
        graph.insert(1, 8, "follower", [(&k[0], true)].into_iter());
        graph.insert(2, 7, "other", [(&k[1], true)].into_iter());
        let (_, _, _, first) = graph.pop().unwrap();
        assert_eq!(first, "blocked");
        // Not released: only the unrelated one is ready.
        assert_eq!(graph.pop().map(|(_, _, _, name)| name), Some("other"));
        assert!(graph.pop().is_none());
        assert_eq!(graph.len(), 1);
        let rest: Vec<_> = graph.drain().collect();
        assert_eq!(rest, vec![(1, 8, "follower")]);
    }

    #[test]
    fn a_node_inserted_after_its_dependency_was_released_is_ready() {
        let k = keys(1);
        let mut graph = PrioGraph::default();
        graph.insert(0, 9, "first", [(&k[0], true)].into_iter());
        let (first, ..) = graph.pop().unwrap();
        graph.release(first);
        graph.insert(1, 8, "second", [(&k[0], true)].into_iter());
        assert_eq!(graph.pop().map(|(_, _, _, name)| name), Some("second"));
    }
}
