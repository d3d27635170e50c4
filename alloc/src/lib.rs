//! The `anomalog` binary's global allocator: [`Split`] hands blocks smaller
//! than [`LARGE`] to mimalloc and larger ones to the system allocator
//! (glibc's `malloc` on Linux).
//!
//! Why (docs/benchmarks.md, "Session 16: the allocator"): under sustained
//! ingest each 1,000-event batch passes through a few buffers of hundreds of
//! KB (the request body, the parsed batch, the queue payload, a claim's
//! payloads, a block's columns and their compressed form). mimalloc keeps a
//! freed block's memory for its purge delay (a second) before it gives it
//! back, so at 200k events/s it held about 70 MiB more than the live heap;
//! glibc gives large blocks back (or reuses them) at once, but its small
//! blocks cost more CPU than mimalloc's. Small blocks are most of the calls
//! and large ones most of the bytes, so each goes where it is cheap.
//!
//! Which allocator owns a block follows from its size alone: `dealloc` and
//! `realloc` are given the layout the block was allocated with, so they
//! always reach the allocator that made it. A `realloc` across [`LARGE`]
//! moves the block from one allocator to the other.

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Blocks of this many bytes and more come from the system allocator.
/// Chosen by the sizes above (the smallest of those buffers is about 200
/// KB), not tuned.
pub const LARGE: usize = 64 * 1024;

/// mimalloc below [`LARGE`] bytes, the system allocator from it on.
#[derive(Debug, Default, Clone, Copy)]
pub struct Split;

fn is_large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: every call is forwarded to an allocator that upholds
// `GlobalAlloc`'s contract, chosen by the block's size, which is the same
// at allocation and at deallocation (the caller passes the allocation's
// layout, and `realloc`'s new layout has the new size): a block is always
// freed or resized by the allocator that made it.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Split {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees on `layout` are passed on as is.
        unsafe {
            if is_large(layout.size()) {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if is_large(layout.size()) {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated with `layout` by this allocator, so by
        // the allocator its size picks.
        unsafe {
            if is_large(layout.size()) {
                System.dealloc(ptr, layout)
            } else {
                MiMalloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let large = is_large(layout.size());
        if large == is_large(new_size) {
            // SAFETY: the block stays with the allocator that made it.
            return unsafe {
                if large {
                    System.realloc(ptr, layout, new_size)
                } else {
                    MiMalloc.realloc(ptr, layout, new_size)
                }
            };
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: `new_layout` has a non-zero size (a size across `LARGE`
        // from another is at least one byte); on success the old block's
        // first `min(old, new)` bytes are copied into the new one, which
        // cannot overlap it, and the old block is freed with its own layout.
        // On failure the old block is left as it was, as `realloc` must.
        unsafe {
            let new_ptr = self.alloc(new_layout);
            if !new_ptr.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new_ptr
        }
    }
}

#[cfg(test)]
#[allow(unsafe_code)]
mod tests {
    use super::*;

    fn filled(size: usize, align: usize) -> (*mut u8, Layout) {
        let layout = Layout::from_size_align(size, align).expect("layout");
        // SAFETY: a non-zero size.
        let ptr = unsafe { Split.alloc(layout) };
        assert!(!ptr.is_null());
        assert_eq!(ptr as usize % align, 0, "aligned to {align}");
        for i in 0..size {
            // SAFETY: within the block just allocated.
            unsafe { ptr.add(i).write((i % 251) as u8) };
        }
        (ptr, layout)
    }

    fn assert_pattern(ptr: *const u8, len: usize) {
        for i in 0..len {
            // SAFETY: the caller passes a live block of at least `len` bytes.
            assert_eq!(unsafe { ptr.add(i).read() }, (i % 251) as u8, "byte {i}");
        }
    }

    #[test]
    fn realloc_keeps_the_contents_across_the_threshold_both_ways() {
        for align in [1, 8, 64, 4096] {
            let (small, layout) = filled(LARGE - 1, align);
            // SAFETY: `small` was allocated by `Split` with `layout`.
            let grown = unsafe { Split.realloc(small, layout, 3 * LARGE) };
            assert!(!grown.is_null());
            assert_eq!(grown as usize % align, 0);
            assert_pattern(grown, LARGE - 1);
            let grown_layout = Layout::from_size_align(3 * LARGE, align).expect("layout");
            // SAFETY: `grown` has `grown_layout` now.
            let shrunk = unsafe { Split.realloc(grown, grown_layout, 100) };
            assert!(!shrunk.is_null());
            assert_eq!(shrunk as usize % align, 0);
            assert_pattern(shrunk, 100);
            let shrunk_layout = Layout::from_size_align(100, align).expect("layout");
            // SAFETY: `shrunk` has `shrunk_layout`.
            unsafe { Split.dealloc(shrunk, shrunk_layout) };
        }
    }

    #[test]
    fn realloc_within_one_side_keeps_the_contents() {
        for (from, to) in [(16, 4000), (LARGE, 10 * LARGE), (10 * LARGE, LARGE)] {
            let (ptr, layout) = filled(from, 16);
            // SAFETY: allocated by `Split` with `layout`.
            let moved = unsafe { Split.realloc(ptr, layout, to) };
            assert!(!moved.is_null());
            assert_pattern(moved, from.min(to));
            let layout = Layout::from_size_align(to, 16).expect("layout");
            // SAFETY: `moved` has `layout`.
            unsafe { Split.dealloc(moved, layout) };
        }
    }

    #[test]
    fn zeroed_blocks_are_zero_on_both_sides() {
        for size in [24, LARGE - 8, LARGE, 5 * LARGE] {
            let layout = Layout::from_size_align(size, 8).expect("layout");
            // SAFETY: a non-zero size.
            let ptr = unsafe { Split.alloc_zeroed(layout) };
            assert!(!ptr.is_null());
            // SAFETY: a live block of `size` bytes.
            let bytes = unsafe { std::slice::from_raw_parts(ptr, size) };
            assert!(bytes.iter().all(|&b| b == 0), "{size} bytes zeroed");
            // SAFETY: allocated with `layout`.
            unsafe { Split.dealloc(ptr, layout) };
        }
    }
}
