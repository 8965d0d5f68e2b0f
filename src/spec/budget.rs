//! Evaluation within bounds: on its own thread with a big stack, a memory
//! budget, a depth (stack) budget and a deadline.
//!
//! Nickel offers no way to stop an evaluation, so the bounds are kept by
//! privai's global allocator ([`Counting`]): every allocation of the
//! evaluation thread is counted, and the allocation that goes over the memory
//! budget, comes too deep into the stack or comes after the deadline stops the
//! thread for good (it sleeps until the process ends, holding what it had).
//! The caller gets a [`Stopped`] at once and the process can report it and
//! exit; nothing in it crashes.

use super::limits::Limits;
use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// Stack of the evaluation thread: reserved, not used, until needed.
/// Evaluation may use 7/8 of it before it counts as too deep.
pub const STACK_SIZE: usize = 256 << 20;

const RUNNING: u8 = 0;
const OVER_MEMORY: u8 = 1;
const OVER_TIME: u8 = 2;
const TOO_DEEP: u8 = 3;

/// Why a bounded evaluation did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// It allocated more than the memory budget.
    Memory,
    /// It ran past the deadline.
    Time,
    /// It recursed too deep for its stack.
    Depth,
    /// The evaluator panicked (a bug met by this input), with its message.
    Panic(String),
}

/// The bounds of the current thread, if it is an evaluation thread.
struct Guard {
    /// Bytes allocated minus bytes freed by this thread since the start.
    used: Cell<isize>,
    limit: Cell<isize>,
    /// Address near the top of the thread's stack.
    stack_top: Cell<usize>,
    /// How many bytes of stack below `stack_top` may be used.
    stack_budget: Cell<usize>,
    /// Shared with the watchdog: [`RUNNING`] or why to stop.
    state: Cell<*const AtomicU8>,
}

thread_local! {
    static GUARD: Guard = const {
        Guard {
            used: Cell::new(0),
            limit: Cell::new(isize::MAX),
            stack_top: Cell::new(0),
            stack_budget: Cell::new(usize::MAX),
            state: Cell::new(std::ptr::null()),
        }
    };
}

/// The global allocator: mimalloc, counting for evaluation threads.
///
/// Evaluating a large spec makes millions of small allocations (Nickel's
/// values, closures and records); mimalloc serves them in less CPU time
/// than the C library's allocator (figures in the README, `Scale`).
pub struct Counting;

/// The allocator that does the work.
static INNER: MiMalloc = MiMalloc;

/// mimalloc's option `mi_option_purge_delay` (the one before
/// `mi_option_use_numa_nodes` in `mimalloc.h`, v2 and v3 alike, as vendored
/// by libmimalloc-sys 0.1.49, which Cargo.toml pins exactly for this).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = libmimalloc_sys::mi_option_use_numa_nodes - 1;
/// mimalloc's option `mi_option_arena_eager_commit` (the fifth in
/// `mimalloc.h`, v2 and v3 alike).
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Whether [`tune_allocator`] ran.
static TUNED: AtomicBool = AtomicBool::new(false);

/// Tunes mimalloc, once per process, at the first allocation (before
/// mimalloc reserves its first arena):
/// - freed memory stays in the process instead of going back to the system
///   10 ms after it is freed: an evaluation frees and allocates again in
///   waves, and memory handed back comes again as fresh pages the kernel
///   must clear (a fifth of the CPU time of checking 5,000 devices);
/// - memory is committed as it is used, not a whole arena at once, which
///   would double the peak RSS of checking the seed (21 to 42 MiB).
#[inline]
fn tune_allocator() {
    if TUNED.load(Ordering::Relaxed) {
        return;
    }
    // SAFETY: setting an option is thread-safe, allocates nothing and takes
    // effect on later purges and arenas; both are options of the linked
    // mimalloc. Two threads may both set them: the same values.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
    }
    TUNED.store(true, Ordering::Relaxed);
}

// SAFETY: every method forwards to `INNER` unchanged; the accounting only
// reads and writes this thread's `Guard` and never allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        tune_allocator();
        charge(layout.size() as isize);
        unsafe { INNER.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        tune_allocator();
        charge(layout.size() as isize);
        unsafe { INNER.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        charge(-(layout.size() as isize));
        unsafe { INNER.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        charge(new_size as isize - layout.size() as isize);
        unsafe { INNER.realloc(ptr, layout, new_size) }
    }
}

/// Counts `bytes` against the current evaluation thread, stopping it for
/// good if it is over a bound.
fn charge(bytes: isize) {
    let stop = GUARD
        .try_with(|guard| {
            let state = guard.state.get();
            if state.is_null() {
                return false;
            }
            let used = guard.used.get().saturating_add(bytes);
            guard.used.set(used);
            if bytes <= 0 {
                return false;
            }
            // SAFETY: the evaluation thread owns an `Arc` of the state for as
            // long as the pointer is set (see `run`).
            #[allow(unsafe_code)]
            let state = unsafe { &*state };
            let mut reason = state.load(Ordering::Relaxed);
            if reason == RUNNING {
                let here = &used as *const isize as usize;
                if used > guard.limit.get() {
                    reason = OVER_MEMORY;
                } else if guard.stack_top.get().saturating_sub(here) > guard.stack_budget.get() {
                    reason = TOO_DEEP;
                }
                if reason != RUNNING {
                    state.store(reason, Ordering::Relaxed);
                }
            }
            reason != RUNNING
        })
        .unwrap_or(false);
    if stop {
        // Nickel cannot be interrupted: the thread stops here, without
        // allocating, and the process reports and exits.
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}

/// Runs `work` on an evaluation thread within `limits`' memory and time.
pub fn run<T: Send + 'static>(
    limits: &Limits,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stopped> {
    run_on_stack(limits, STACK_SIZE, work)
}

/// [`run`] with a stack of `stack_size` bytes.
fn run_on_stack<T: Send + 'static>(
    limits: &Limits,
    stack_size: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stopped> {
    let state = Arc::new(AtomicU8::new(RUNNING));
    let (tx, rx) = std::sync::mpsc::channel();
    let thread_state = Arc::clone(&state);
    let limit = isize::try_from(limits.max_memory).unwrap_or(isize::MAX);
    let spawned = std::thread::Builder::new()
        .name("privai-eval".into())
        .stack_size(stack_size)
        .spawn(move || {
            let top = 0u8;
            GUARD.with(|guard| {
                guard.used.set(0);
                guard.limit.set(limit);
                guard.stack_top.set(&top as *const u8 as usize);
                guard.stack_budget.set(stack_size / 8 * 7);
                guard.state.set(Arc::as_ptr(&thread_state));
            });
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            GUARD.with(|guard| guard.state.set(std::ptr::null()));
            drop(thread_state);
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(Stopped::Panic(format!(
            "could not start the evaluation thread: {e}"
        )));
    }
    let start = Instant::now();
    loop {
        let left = limits.max_time.saturating_sub(start.elapsed());
        match rx.recv_timeout(left.min(Duration::from_millis(20))) {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(panic)) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                return Err(Stopped::Panic(message));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Stopped::Panic("the evaluation thread ended".into()));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        match state.load(Ordering::Relaxed) {
            OVER_MEMORY => return Err(Stopped::Memory),
            TOO_DEEP => return Err(Stopped::Depth),
            _ => {}
        }
        if start.elapsed() >= limits.max_time {
            // Stops the thread at its next allocation.
            state.store(OVER_TIME, Ordering::Relaxed);
            return Err(Stopped::Time);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(memory: u64, time: Duration) -> Limits {
        Limits {
            max_memory: memory,
            max_time: time,
            allow_import: Vec::new(),
        }
    }

    #[test]
    #[allow(unsafe_code)]
    fn an_evaluation_tunes_the_allocator() {
        // The options are mimalloc's purge delay (10 ms by default) and
        // arena eager commit (2 by default), unless an evaluation of this
        // process already set them.
        let get = |option| unsafe { libmimalloc_sys::mi_option_get(option) };
        assert!(matches!(get(PURGE_DELAY), 10 | -1), "{}", get(PURGE_DELAY));
        assert!(
            matches!(get(ARENA_EAGER_COMMIT), 2 | 0),
            "{}",
            get(ARENA_EAGER_COMMIT)
        );
        run(&limits(64 << 20, Duration::from_secs(30)), || ()).unwrap();
        assert_eq!(get(PURGE_DELAY), -1);
        assert_eq!(get(ARENA_EAGER_COMMIT), 0);
    }

    #[test]
    fn work_within_bounds_returns_its_value() {
        let got = run(&limits(64 << 20, Duration::from_secs(30)), || {
            vec![1u8; 1 << 20].len()
        });
        assert_eq!(got, Ok(1 << 20));
    }

    #[test]
    fn allocating_past_the_memory_budget_stops_the_work() {
        let start = Instant::now();
        let got = run(&limits(16 << 20, Duration::from_secs(30)), || {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
            }
        });
        assert_eq!(got, Err::<(), _>(Stopped::Memory));
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn work_past_the_deadline_is_stopped() {
        let got = run(&limits(1 << 30, Duration::from_millis(200)), || {
            loop {
                std::hint::black_box(vec![0u8; 64]);
            }
        });
        assert_eq!(got, Err::<(), _>(Stopped::Time));
    }

    #[test]
    fn recursion_too_deep_for_the_stack_is_stopped_not_crashed() {
        // Recursion without a base case (as written in a spec); the bound
        // is far beyond what 16 MiB of stack holds.
        fn down(n: u64) -> u64 {
            let frame = std::hint::black_box([n; 64]);
            let boxed = std::hint::black_box(Box::new(n));
            if n == u64::MAX {
                return 0;
            }
            down(n + 1) + frame[3] + *boxed
        }
        let got = run_on_stack(&limits(u64::MAX, Duration::from_secs(60)), 16 << 20, || {
            down(0)
        });
        assert_eq!(got, Err(Stopped::Depth));
    }

    #[test]
    fn a_panic_in_the_work_is_returned_with_its_message() {
        let got = run(&limits(1 << 30, Duration::from_secs(5)), || -> u8 {
            panic!("engine bug")
        });
        assert_eq!(got, Err(Stopped::Panic("engine bug".into())));
    }
}
