//! A connection's bounded inbox for events produced by other connections
//! (presence changes, chat messages, invitations). Producers never wait: a
//! full mailbox marks its owner as a client that cannot keep up, and the
//! owner disconnects, so one slow reader cannot stall anybody else.
//!
//! Idle mailboxes hold no allocation, which matters with tens of thousands
//! of idle sessions.

use std::collections::VecDeque;

use parking_lot::Mutex;
use tokio::sync::Notify;

/// Why an event could not be queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushError {
    /// The owner is not keeping up; it will be disconnected.
    Full,
    /// The owner is gone.
    Closed,
}

struct State<E> {
    queue: VecDeque<E>,
    closed: bool,
    overflowed: bool,
}

pub struct Mailbox<E> {
    state: Mutex<State<E>>,
    notify: Notify,
    capacity: usize,
}

/// What the owner finds when it looks into its mailbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drained {
    Open,
    /// An event was dropped because the mailbox was full.
    Overflowed,
    /// Someone closed the mailbox (e.g. the session was replaced).
    Closed,
}

impl<E> Mailbox<E> {
    pub fn new(capacity: usize) -> Mailbox<E> {
        Mailbox {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                closed: false,
                overflowed: false,
            }),
            notify: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    /// Queues an event without waiting.
    pub fn push(&self, event: E) -> Result<(), PushError> {
        let mut s = self.state.lock();
        if s.closed {
            return Err(PushError::Closed);
        }
        if s.queue.len() >= self.capacity {
            s.overflowed = true;
            drop(s);
            // The owner is disconnected as a slow reader when it looks next
            // (`msnd_disconnects_total{reason="event queue overflow"}`).
            metrics::counter!("msnd_mailbox_drops_total").increment(1);
            self.notify.notify_one();
            return Err(PushError::Full);
        }
        s.queue.push_back(event);
        drop(s);
        self.notify.notify_one();
        Ok(())
    }

    /// Moves every queued event into `into`.
    pub fn drain(&self, into: &mut Vec<E>) -> Drained {
        let mut s = self.state.lock();
        into.extend(s.queue.drain(..));
        // An idle connection keeps no queue memory.
        s.queue = VecDeque::new();
        if s.closed {
            Drained::Closed
        } else if s.overflowed {
            Drained::Overflowed
        } else {
            Drained::Open
        }
    }

    /// Waits until something was pushed (or the mailbox closed).
    pub async fn notified(&self) {
        self.notify.notified().await;
    }

    /// Refuses further events and wakes the owner.
    pub fn close(&self) {
        let mut s = self.state.lock();
        s.closed = true;
        s.queue.clear();
        drop(s);
        self.notify.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn push_drain_overflow_close() {
        let m = Mailbox::new(2);
        m.push(1).unwrap();
        m.push(2).unwrap();
        assert_eq!(m.push(3), Err(PushError::Full));
        m.notified().await; // a permit is stored
        let mut v = Vec::new();
        assert_eq!(m.drain(&mut v), Drained::Overflowed);
        assert_eq!(v, [1, 2]);
        m.close();
        assert_eq!(m.push(4), Err(PushError::Closed));
        assert_eq!(m.drain(&mut v), Drained::Closed);
    }
}
