//! Work on items in parallel, consume the results in item order.
//!
//! Workers take the next item as soon as they are free, but never run more
//! than `window` items ahead of the consumer, so at most `window` results
//! (each a bounded spool, see [`super::encode`]) wait in memory at once:
//! memory grows with the number of threads, not with the package. The
//! consumer (the zip writer) sees results in exactly the order of the items,
//! so the output does not depend on thread count or scheduling.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

use crate::wake_on_panic::WakeOnPanic;

struct State<T, E> {
    next_to_start: usize,
    next_to_consume: usize,
    ready: BTreeMap<usize, Result<T, E>>,
    stop: bool,
    /// Workers waiting for the consumer to make room in the window.
    waiting_for_room: usize,
}

/// The number of worker threads to use: `requested`, else the machine's.
pub fn threads(requested: Option<usize>) -> usize {
    requested
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `work(i)` for `i` in `0..count` on `workers` threads and passes each
/// result to `consume(i, result)` in order of `i`, on the calling thread.
/// The first error (from either) stops the rest and is returned.
pub fn run<T, E>(
    count: usize,
    workers: usize,
    window: usize,
    work: impl Fn(usize) -> Result<T, E> + Sync,
    mut consume: impl FnMut(usize, T) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    E: Send,
{
    let window = window.max(1);
    let state = Mutex::new(State {
        next_to_start: 0,
        next_to_consume: 0,
        ready: BTreeMap::new(),
        stop: false,
        waiting_for_room: 0,
    });
    // Two conditions, each signalled only to whoever waits for it: with one
    // condition woken for every result, a rebuild of many small entries
    // spent a fifth of its time waking threads that had nothing to do.
    let result_ready = Condvar::new();
    let room = Condvar::new();
    let lock = || state.lock().unwrap_or_else(|p| p.into_inner());
    let stop_all = || {
        lock().stop = true;
        result_ready.notify_all();
        room.notify_all();
    };
    std::thread::scope(|scope| {
        // A panic in `consume` must not leave the workers waiting for it.
        let _consumer = WakeOnPanic(stop_all);
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                // Nor must a panic in `work` leave the consumer waiting.
                let _worker = WakeOnPanic(stop_all);
                loop {
                    let i = {
                        let mut s = lock();
                        while !s.stop
                            && s.next_to_start < count
                            && s.next_to_start >= s.next_to_consume + window
                        {
                            s.waiting_for_room += 1;
                            s = room.wait(s).unwrap_or_else(|p| p.into_inner());
                            s.waiting_for_room -= 1;
                        }
                        if s.stop || s.next_to_start >= count {
                            return;
                        }
                        s.next_to_start += 1;
                        s.next_to_start - 1
                    };
                    let result = work(i);
                    let mut s = lock();
                    s.ready.insert(i, result);
                    // The consumer waits for one result only.
                    if i == s.next_to_consume {
                        result_ready.notify_one();
                    }
                }
            });
        }
        let stop = |error: E| {
            stop_all();
            Err(error)
        };
        for i in 0..count {
            let result = {
                let mut s = lock();
                loop {
                    if let Some(r) = s.ready.remove(&i) {
                        s.next_to_consume = i + 1;
                        // One more item may start.
                        if s.waiting_for_room > 0 {
                            room.notify_one();
                        }
                        break r;
                    }
                    if s.stop {
                        // Only a worker's panic stops the run while the
                        // consumer waits; the scope passes that panic on
                        // once every worker has stopped.
                        return Ok(());
                    }
                    s = result_ready.wait(s).unwrap_or_else(|p| p.into_inner());
                }
            };
            match result {
                Ok(value) => {
                    if let Err(e) = consume(i, value) {
                        return stop(e);
                    }
                }
                Err(e) => return stop(e),
            }
        }
        // Workers still waiting for room (every item started) can go.
        stop_all();
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn results_arrive_in_order_and_never_too_far_ahead() {
        let in_flight = AtomicUsize::new(0);
        let max_seen = AtomicUsize::new(0);
        let consumed = AtomicUsize::new(0);
        let mut order = Vec::new();
        run(
            200,
            4,
            3,
            |i| {
                // Items started but not consumed yet stay within the window.
                let ahead = i + 1 - consumed.load(Ordering::SeqCst);
                max_seen.fetch_max(ahead, Ordering::SeqCst);
                in_flight.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_micros((i as u64 * 37) % 300));
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, ()>(i * 2)
            },
            |i, v| {
                assert_eq!(v, i * 2);
                order.push(i);
                consumed.store(i + 1, Ordering::SeqCst);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(order, (0..200).collect::<Vec<_>>());
        // The window, plus the one result the consumer holds.
        assert!(max_seen.load(Ordering::SeqCst) <= 3 + 1, "{max_seen:?}");
    }

    /// A panic in a worker or in the consumer fails the run with that
    /// panic; it does not leave the other side waiting forever.
    #[test]
    fn a_panic_on_either_side_fails_the_run_instead_of_hanging() {
        for in_worker in [true, false] {
            let (sent, outcome) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let run = std::panic::catch_unwind(|| {
                    run(
                        1000,
                        3,
                        2,
                        |i| {
                            assert!(!in_worker || i != 7, "a bug in a worker");
                            Ok::<_, ()>(i)
                        },
                        |i, _| {
                            assert!(in_worker || i != 7, "a bug in the consumer");
                            Ok(())
                        },
                    )
                });
                let _ = sent.send(run.is_err());
            });
            let panicked = outcome
                .recv_timeout(std::time::Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("the run hung (panic in worker: {in_worker})"));
            assert!(panicked, "panic in worker: {in_worker}");
        }
    }

    #[test]
    fn the_first_error_stops_the_run() {
        let started = AtomicUsize::new(0);
        let err = run(
            1000,
            2,
            4,
            |i| {
                started.fetch_add(1, Ordering::SeqCst);
                if i == 10 { Err(i) } else { Ok(i) }
            },
            |_, _| Ok(()),
        )
        .unwrap_err();
        assert_eq!(err, 10);
        assert!(started.load(Ordering::SeqCst) < 100);
        let err = run(5, 2, 2, Ok::<usize, usize>, |i, _| {
            if i == 3 { Err(99) } else { Ok(()) }
        })
        .unwrap_err();
        assert_eq!(err, 99);
    }
}
