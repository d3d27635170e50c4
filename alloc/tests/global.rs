//! `Split` as the test binary's global allocator: collections that grow
//! through the threshold and shrink back, blocks freed on another thread than
//! the one that made them.

use anomalog_alloc::{LARGE, Split};

#[global_allocator]
static ALLOCATOR: Split = Split;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn a_vec_grows_through_the_threshold_and_shrinks_back() {
    let mut bytes = Vec::new();
    for i in 0..4 * LARGE {
        bytes.push((i % 251) as u8);
    }
    assert_eq!(bytes, pattern(4 * LARGE));
    bytes.truncate(10);
    bytes.shrink_to_fit();
    assert_eq!(bytes, pattern(10));
}

#[test]
fn blocks_made_on_one_thread_are_freed_on_another() {
    let (send, receive) = std::sync::mpsc::channel::<Vec<Vec<u8>>>();
    let maker = std::thread::spawn(move || {
        for round in 0..50 {
            let sizes = [16, 1000, LARGE - 1, LARGE, 3 * LARGE + round];
            send.send(sizes.iter().map(|&n| pattern(n)).collect())
                .expect("receiver alive");
        }
    });
    let mut seen = 0;
    for blocks in receive {
        for block in &blocks {
            assert_eq!(block, &pattern(block.len()));
        }
        seen += 1;
    }
    maker.join().expect("maker thread");
    assert_eq!(seen, 50);
}

#[test]
fn strings_and_maps_of_mixed_sizes_keep_their_contents() {
    let mut map = std::collections::HashMap::new();
    for i in 0..20_000 {
        map.insert(format!("key-{i}"), "v".repeat(i % 97));
    }
    let big: String = map.keys().take(10_000).cloned().collect();
    assert!(big.len() > LARGE, "one string past the threshold");
    for i in (0..20_000).step_by(997) {
        assert_eq!(map[&format!("key-{i}")], "v".repeat(i % 97));
    }
}
