//! `SpinWait`: how a thread waits on a channel when the next message usually comes within
//! microseconds: it polls for a short while, then sleeps on the channel.
//!
//! Sleeping costs a wake-up on the sender's side and a rescheduling on the receiver's: tens
//! of microseconds on a virtual machine, more than a replayed transaction takes. Polling
//! costs a core. So a thread spins only where the machine has a core for every thread that
//! is busy at once; where threads share cores, a spinning thread would take the core the
//! thread it waits for needs, and it sleeps at once.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvError, TryRecvError};

/// How long a waiting thread polls before it sleeps, where cores allow.
pub const SPIN_BUDGET: Duration = Duration::from_micros(50);

/// Empty polls between two looks at the clock.
const POLLS_PER_CLOCK_READ: u32 = 64;

/// A waiting policy: poll for up to a budget, then sleep on the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpinWait {
    budget: Option<Duration>,
}

impl SpinWait {
    /// The policy for `busy_threads` threads working at once on this machine: spin for up
    /// to [`SPIN_BUDGET`] when the machine has at least that many cores, never otherwise.
    pub fn for_threads(busy_threads: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        if cores >= busy_threads {
            Self::spinning(SPIN_BUDGET)
        } else {
            Self::never()
        }
    }

    /// Spin for up to `budget` before sleeping.
    pub fn spinning(budget: Duration) -> Self {
        Self {
            budget: Some(budget),
        }
    }

    /// Sleep at once.
    pub fn never() -> Self {
        Self { budget: None }
    }

    /// Whether this policy spins at all.
    pub fn spins(&self) -> bool {
        self.budget.is_some()
    }

    /// Polls `receiver` until a message comes or the budget is spent, then sleeps on it.
    ///
    /// # Errors
    /// [`RecvError`] once the channel is empty and every sender is gone.
    pub fn recv<T>(&self, receiver: &Receiver<T>) -> Result<T, RecvError> {
        if let Some(budget) = self.budget {
            let until = Instant::now() + budget;
            loop {
                for _ in 0..POLLS_PER_CLOCK_READ {
                    match receiver.try_recv() {
                        Ok(message) => return Ok(message),
                        Err(TryRecvError::Disconnected) => return Err(RecvError),
                        Err(TryRecvError::Empty) => std::hint::spin_loop(),
                    }
                }
                if Instant::now() >= until {
                    break;
                }
            }
        }
        receiver.recv()
    }

    /// Polls until `ready` says there is something to do or the budget is spent; returns
    /// whether it was. For a thread that waits on several channels (and then sleeps on a
    /// `select!` of them).
    pub fn poll_until(&self, mut ready: impl FnMut() -> bool) -> bool {
        let Some(budget) = self.budget else {
            return ready();
        };
        let until = Instant::now() + budget;
        loop {
            for _ in 0..POLLS_PER_CLOCK_READ {
                if ready() {
                    return true;
                }
                std::hint::spin_loop();
            }
            if Instant::now() >= until {
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_message_is_taken_and_a_closed_channel_ends_the_wait() {
        for wait in [
            SpinWait::spinning(Duration::from_micros(10)),
            SpinWait::never(),
        ] {
            let (sender, receiver) = crossbeam_channel::unbounded();
            sender.send(7).unwrap();
            assert_eq!(wait.recv(&receiver), Ok(7));
            drop(sender);
            assert_eq!(wait.recv(&receiver), Err(RecvError));
        }
    }

    #[test]
    fn a_message_sent_after_the_spin_still_arrives() {
        let wait = SpinWait::spinning(Duration::from_micros(1));
        let (sender, receiver) = crossbeam_channel::unbounded();
        let handle = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            sender.send(1u8).unwrap();
        });
        assert_eq!(wait.recv(&receiver), Ok(1));
        handle.join().unwrap();
    }

    #[test]
    fn poll_until_reports_whether_the_condition_came_true() {
        let wait = SpinWait::spinning(Duration::from_micros(20));
        let mut polls = 0;
        assert!(wait.poll_until(|| {
            polls += 1;
            polls == 3
        }));
        assert!(!wait.poll_until(|| false));
        assert!(!SpinWait::never().poll_until(|| false));
        assert!(SpinWait::never().poll_until(|| true));
    }

    #[test]
    fn one_core_per_thread_is_needed_to_spin() {
        assert!(!SpinWait::for_threads(usize::MAX).spins());
        assert!(SpinWait::for_threads(1).spins());
    }
}
