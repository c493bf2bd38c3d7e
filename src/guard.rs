//! A watch on memory and signals while a template from the repository
//! renders. minijinja's fuel bounds the instructions a template runs, not
//! what one instruction allocates (a list doubled in a loop), and a render
//! never looks at signals. So the global allocator counts what is
//! allocated, and the time taken, while a render is armed; past either
//! limit, or once SIGTERM or SIGINT arrived, it writes the prepared message
//! to standard error and ends the process with status 2. Nothing has been printed on standard
//! output at that point (the stream is printed only after every step), and
//! no child is running (helm finished before templates render).

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use crate::signals;

/// The allocator underneath: mimalloc. A run allocates a few hundred small
/// blocks per service (JSON maps, strings) and frees them all; mimalloc's
/// free lists take a quarter to a third off the time of the C library's
/// allocator at 1,000 and 10,000 services (bench/README.md). Built without
/// its transparent-huge-page advice (`no_thp`), which would make a short
/// run's resident memory jump 2 MiB at a time.
static BASE: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `include/mimalloc.h`, as
/// built by the pinned libmimalloc-sys (whose Rust constants stop short of
/// it; a test reads its documented default through this number).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays resident before it goes back to the
/// system, in milliseconds. mimalloc v3 waits a second, longer than a
/// whole run, so a run's resident memory was the sum of its phases (the
/// values tree, then the objects and the text) instead of the largest;
/// purging within a millisecond costs no time measurable in `bench/`.
const PURGE_DELAY_MS: std::ffi::c_long = 1;

/// Sets the allocator's options; called first thing in `main`.
pub fn configure() {
    // SAFETY: mi_option_set only stores the value; purges read it later.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
}

/// What one render may allocate beyond what the process held before it.
pub const MAX_RENDER_BYTES: usize = 256 * 1024 * 1024;
/// How long one render may run. minijinja's `+` on lists builds them
/// lazily, so a doubled list costs time when iterated rather than memory;
/// a real template renders one object in well under a millisecond.
pub const MAX_RENDER_NANOS: u64 = 3_000_000_000;

static ARMED: AtomicBool = AtomicBool::new(false);
static GROWTH: AtomicIsize = AtomicIsize::new(0);
static ARMED_AT: AtomicU64 = AtomicU64::new(0);
/// What is rendering (a template and what it renders for), stored by
/// `arm` for the message `trip` writes.
static WHAT: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static WHAT_LEN: AtomicUsize = AtomicUsize::new(0);

/// The three ways a render is stopped, each message written around the
/// name of what was rendering.
#[derive(Clone, Copy)]
enum Stop {
    Memory,
    Time,
    Signal,
}

/// Each stop's message before and after the name of what renders, made
/// once (on the first `arm`, while allocating is fine) rather than for
/// every render: a run renders once per service.
static MESSAGES: std::sync::OnceLock<[(String, String); 3]> = std::sync::OnceLock::new();

fn messages() -> &'static [(String, String); 3] {
    MESSAGES.get_or_init(|| {
        [
            (
                "error: ".to_string(),
                format!(
                    ": the template allocates more than {} MiB; stopped\n  hint: a template that grows a list or a string in a loop runs out of memory before it runs out of fuel; build the value once\n",
                    MAX_RENDER_BYTES / (1024 * 1024)
                ),
            ),
            (
                "error: ".to_string(),
                format!(
                    ": the template runs longer than {} s; stopped\n  hint: look for a loop over a value that grows (a list added to itself), and build the value once\n",
                    MAX_RENDER_NANOS / 1_000_000_000
                ),
            ),
            (
                "error: terminated while rendering ".to_string(),
                "; nothing was printed\n".to_string(),
            ),
        ]
    })
}

/// The process's allocator: mimalloc, watched while armed.
pub struct Guard;

#[cold]
fn trip(stop: Stop) -> ! {
    let what = WHAT.load(Ordering::SeqCst);
    let what_len = WHAT_LEN.load(Ordering::SeqCst);
    // Made by `arm` before the watch was armed, so only read here.
    let (before, after) = &messages()[stop as usize];
    let what: &[u8] = if what.is_null() {
        &[]
    } else {
        // SAFETY: `what` and its length were leaked by `arm` and are freed
        // only by a later `arm`, which runs while disarmed.
        unsafe { std::slice::from_raw_parts(what, what_len) }
    };
    let parts = [before.as_bytes(), what, after.as_bytes()].map(|part| libc::iovec {
        iov_base: part.as_ptr() as *mut libc::c_void,
        iov_len: part.len(),
    });
    // SAFETY: writev(2) and _exit(2) allocate nothing, which matters
    // inside the allocator; the buffers outlive the call.
    unsafe {
        libc::writev(
            libc::STDERR_FILENO,
            parts.as_ptr(),
            parts.len() as libc::c_int,
        );
        libc::_exit(2);
    }
}

/// A monotonic clock reading that allocates nothing.
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
}

fn watch(bytes: usize) {
    let grown = GROWTH.fetch_add(bytes as isize, Ordering::Relaxed) + bytes as isize;
    if grown > MAX_RENDER_BYTES as isize {
        trip(Stop::Memory);
    }
    if signals::terminated() {
        trip(Stop::Signal);
    }
    // The clock is read on every 64th allocation: a render allocates
    // thousands of times a millisecond, and a clock reading costs more
    // than the rest of the watch.
    if WATCHED
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(CLOCK_EVERY)
        && now_ns().saturating_sub(ARMED_AT.load(Ordering::Relaxed)) > MAX_RENDER_NANOS
    {
        trip(Stop::Time);
    }
}

/// How many allocations of an armed render pass between clock readings.
const CLOCK_EVERY: usize = 64;
/// Allocations watched since the render was armed.
static WATCHED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// watch only reads and updates atomics (or ends the process).
unsafe impl GlobalAlloc for Guard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            watch(layout.size());
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { BASE.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            watch(layout.size());
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { BASE.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::Relaxed) {
            GROWTH.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { BASE.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            if new_size > layout.size() {
                watch(new_size - layout.size());
            } else {
                GROWTH.fetch_sub((layout.size() - new_size) as isize, Ordering::Relaxed);
            }
        }
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { BASE.realloc(ptr, layout, new_size) }
    }
}

/// Disarms when dropped.
pub struct Armed(());

impl Drop for Armed {
    fn drop(&mut self) {
        ARMED.store(false, Ordering::SeqCst);
    }
}

/// Arms the watch for one render of `what` (a template and what it
/// renders for). The name is stored now, while allocating is fine, in
/// place of the previous render's.
pub fn arm(what: String) -> Armed {
    messages();
    let what: &'static mut str = what.leak();
    let old_len = WHAT_LEN.swap(what.len(), Ordering::SeqCst);
    let old = WHAT.swap(what.as_mut_ptr(), Ordering::SeqCst);
    if !old.is_null() {
        // SAFETY: `old` and `old_len` came from a `String::leak` above;
        // renders run one at a time and this runs while disarmed, so
        // nobody reads the old name any more.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(old, old_len)) });
    }
    ARMED_AT.store(now_ns(), Ordering::SeqCst);
    GROWTH.store(0, Ordering::SeqCst);
    WATCHED.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    Armed(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_constant_names_mimallocs_purge_delay() {
        // mimalloc v3 documents 1000 ms as purge_delay's default; no other
        // option of its header has that default.
        // SAFETY: reading an option has no precondition.
        let default = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(default, 1000);
    }
}
