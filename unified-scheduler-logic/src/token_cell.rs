//! `TokenCell` and `Token`: interior mutability whose exclusivity is proven by a zero-sized
//! token that one thread owns, at no run-time cost.

use std::any::{self, TypeId};
use std::cell::{RefCell, UnsafeCell};
use std::marker::PhantomData;
use std::thread;

/// A cell whose contents can be mutated only by presenting `&mut` [`Token<V>`].
///
/// The scheduler thread is the only thread that mutates scheduling state, but that state
/// (usage queues, a task's blocked count) is *created* on other threads and *shared* with
/// them through `Arc`s (tasks travel to workers and back). A `Mutex` would be correct and
/// slow; a bare `UnsafeCell` fast and unsound. `TokenCell` is the `UnsafeCell` plus a proof
/// obligation discharged once, by the `unsafe` constructor of the token.
///
/// # Soundness
/// Rust's aliasing rule for `UnsafeCell` is: no `&mut V` to the contents may coexist with
/// any other reference to them. [`with_borrow_mut`](Self::with_borrow_mut) hands out a
/// `&mut V` only for the duration of a closure and only while `&mut Token<V>` is borrowed,
/// so:
///
/// 1. **Within one thread**, two such borrows cannot overlap, whether of the same cell or of
///    two cells, because both would need the thread's one `&mut Token<V>` at the same time,
///    which the borrow checker rejects. (This is stricter than necessary: two *different*
///    cells could be borrowed at once. The scheduler never needs that.) There is one token
///    per type per thread: [`Token::assume_exclusive_mutating_thread`] panics if asked for a
///    second one on the same thread.
/// 2. **Across threads**, the token is neither `Send` nor `Sync`, so it stays on the thread
///    that minted it. Two threads could still each mint a token and borrow the *same* cell at
///    the same time; excluding that is the obligation that the caller of the `unsafe`
///    constructor accepts: every cell borrowed with a thread's token is borrowed by no other
///    thread, except after a happens-before edge (a channel send, a join) that hands the cell
///    over for good.
/// 3. The borrow's lifetime is bounded by the closure, never by the token, so a `&mut V`
///    cannot outlive the cell (no use-after-free through a long-lived token).
///
/// Given (2), the cell can be shared between threads (`Sync`) as long as the contents can be
/// *sent* between them (`V: Send`): sharing a `TokenCell` moves access to `V`, never shares
/// it. Agave's version implements `Sync` for every `V`; requiring `V: Send` rules out, for
/// instance, an `Rc` reaching a worker thread through a cell.
///
/// Miri checks these rules in CI: the crate's tests run under `cargo miri test`, and a test
/// that breaks obligation (2) must be rejected by it (see `.ci/run`).
#[derive(Debug, Default)]
pub struct TokenCell<V>(UnsafeCell<V>);

impl<V> TokenCell<V> {
    /// A cell holding `value`. Not `const`, so a cell cannot become a `static` shared by
    /// every thread without anyone writing `unsafe`.
    pub fn new(value: V) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// Runs `f` with exclusive access to the contents, for as long as `token` is borrowed.
    #[inline(always)]
    pub fn with_borrow_mut<R>(&self, _token: &mut Token<V>, f: impl FnOnce(&mut V) -> R) -> R {
        // SAFETY: `&mut Token<V>` is borrowed for the whole call and there is one token per
        // `V` per thread (enforced by `assume_exclusive_mutating_thread`), so no other
        // borrow of any `TokenCell<V>` is live on this thread; by the constructor's contract,
        // no other thread borrows this cell; the reference dies with the closure.
        f(unsafe { &mut *self.0.get() })
    }

    /// The contents, by exclusive access to the cell itself (no token needed).
    pub fn get_mut(&mut self) -> &mut V {
        self.0.get_mut()
    }

    /// Takes the contents out of the cell.
    pub fn into_inner(self) -> V {
        self.0.into_inner()
    }
}

// SAFETY: A shared `&TokenCell<V>` gives access to `V` only through `with_borrow_mut`, which
// requires the token of the one thread allowed to access this cell (the contract of
// `Token::assume_exclusive_mutating_thread`). So sharing the cell never lets two threads
// touch `V` concurrently; at most it moves access to `V` from one thread to another, which
// is sound exactly when `V: Send`.
unsafe impl<V: Send> Sync for TokenCell<V> {}

/// The proof of exclusive access to every [`TokenCell<V>`] that the current thread uses.
///
/// Zero-sized, `!Send`, `!Sync`, `!Clone`, `!Default`: it can only be minted by
/// [`assume_exclusive_mutating_thread`](Self::assume_exclusive_mutating_thread), and it
/// stays on the minting thread.
#[derive(Debug)]
pub struct Token<V: 'static>(PhantomData<*mut V>);

impl<V: 'static> Token<V> {
    /// Mints this thread's token for `TokenCell<V>`.
    ///
    /// # Panics
    /// If this thread already minted a `Token<V>` (even one since dropped): a second token
    /// would allow two live `&mut V` on one thread.
    ///
    /// # Safety
    /// Every `TokenCell<V>` that will be borrowed with this token must not be borrowed by any
    /// other thread while this thread may still borrow it: other threads may only create,
    /// move or drop such cells, or borrow them after a synchronizing hand-over (channel,
    /// join) after which this thread no longer borrows them.
    #[must_use]
    pub unsafe fn assume_exclusive_mutating_thread() -> Self {
        thread_local! {
            static MINTED: RefCell<Vec<TypeId>> = const { RefCell::new(Vec::new()) };
        }
        let newly_minted = MINTED.with_borrow_mut(|minted| {
            let id = TypeId::of::<Self>();
            let fresh = !minted.contains(&id);
            if fresh {
                minted.push(id);
            }
            fresh
        });
        assert!(
            newly_minted,
            "{} minted twice on thread {:?} (invariant: one token per type per thread)",
            any::type_name::<Self>(),
            thread::current().id()
        );
        Self(PhantomData)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_in_turn_see_each_others_writes() {
        // SAFETY: the cells below are only used on this thread.
        let mut token = unsafe { Token::<u32>::assume_exclusive_mutating_thread() };
        let a = TokenCell::new(1);
        let b = TokenCell::new(10);
        a.with_borrow_mut(&mut token, |v| *v += 1);
        let sum = b.with_borrow_mut(&mut token, |v| {
            *v += 1;
            *v
        }) + a.with_borrow_mut(&mut token, |v| *v);
        assert_eq!(sum, 13);
        assert_eq!(a.into_inner(), 2);
    }

    #[test]
    #[should_panic(expected = "minted twice")]
    fn minting_twice_on_one_thread_panics() {
        // SAFETY: no cell is borrowed at all.
        let _first = unsafe { Token::<u64>::assume_exclusive_mutating_thread() };
        // SAFETY: as above; this call must panic before returning.
        let _second = unsafe { Token::<u64>::assume_exclusive_mutating_thread() };
    }

    #[test]
    fn each_thread_and_each_type_has_its_own_token() {
        // SAFETY: no cell is borrowed.
        let _here = unsafe { Token::<i8>::assume_exclusive_mutating_thread() };
        // SAFETY: a different type is a different token.
        let _other_type = unsafe { Token::<i16>::assume_exclusive_mutating_thread() };
        thread::spawn(|| {
            // SAFETY: no cell is borrowed; a new thread has no token yet.
            let _there = unsafe { Token::<i8>::assume_exclusive_mutating_thread() };
        })
        .join()
        .expect("a new thread mints its own token");
    }

    #[test]
    fn a_cell_handed_over_through_a_channel_is_used_by_the_receiver() {
        let cell = std::sync::Arc::new(TokenCell::new(0u16));
        let (sender, receiver) = std::sync::mpsc::channel();
        let worker = {
            let cell = std::sync::Arc::clone(&cell);
            thread::spawn(move || {
                // SAFETY: only this thread borrows `cell` (the main thread waits on `join`).
                let mut token = unsafe { Token::<u16>::assume_exclusive_mutating_thread() };
                cell.with_borrow_mut(&mut token, |v| *v = 7);
                sender.send(()).expect("main thread is waiting");
            })
        };
        receiver.recv().expect("worker sends once");
        worker.join().expect("worker does not panic");
        let mut cell = std::sync::Arc::try_unwrap(cell).expect("worker dropped its clone");
        assert_eq!(*cell.get_mut(), 7);
    }
}
