//! Files to upload: deterministic pseudo-random content, so a byte-for-byte check means something.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng, rngs::SmallRng, rngs::StdRng};

/// Writes `size` bytes derived from `seed` to `path`, creating parent folders. Streams in 1 MiB
/// chunks, so multi-GiB fixtures need no memory.
pub fn write_file(path: &Path, size: u64, seed: u64) -> PathBuf {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("fixture folder");
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("fixture file"));
    // Fast rather than cryptographic: the tests write gigabytes of it.
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        rng.fill(&mut chunk[..n]);
        file.write_all(&chunk[..n]).expect("fixture write");
        left -= n as u64;
    }
    file.flush().expect("fixture flush");
    path.to_path_buf()
}

/// A tree of `count` small files (`min..=max` bytes) spread over nested folders under `root`.
/// Returns the files' paths relative to `root`, sorted.
pub fn small_tree(root: &Path, count: usize, min: u64, max: u64, seed: u64) -> Vec<PathBuf> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let rel = PathBuf::from(format!("d{}/e{}/file-{i:05}.bin", i % 10, i % 7));
        let size = rng.random_range(min..=max);
        write_file(
            &root.join(&rel),
            size,
            seed.wrapping_mul(31).wrapping_add(i as u64),
        );
        out.push(rel);
    }
    out.sort();
    out
}

/// A temporary folder in memory (`/dev/shm`) where the system has one, else the usual one: for
/// tests of tens of thousands of tiny files, which these machines' disk creates and deletes more
/// slowly than the server uploads them (the 50,000-file test: 202 s on disk, 117 s in memory).
/// Only for few bytes: the multi-GiB fixtures stay on disk.
pub fn memory_tempdir(prefix: &str) -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let builder = tempfile::Builder::new().prefix(prefix).to_owned();
    if shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return dir;
    }
    builder.tempdir().expect("temp dir")
}
