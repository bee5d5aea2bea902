//! Content hashes as oxen-server computes them: XXH3-128 (seed 0) over the raw bytes, written as
//! lowercase hex without leading zeros.

use std::io::Read;
use std::path::Path;

use xxhash_rust::xxh3::Xxh3;

/// Formats a 128-bit hash the way the server does (`format!("{:x}", u128)`).
pub fn to_hex(hash: u128) -> String {
    format!("{hash:x}")
}

pub fn hash_bytes(bytes: &[u8]) -> String {
    to_hex(xxhash_rust::xxh3::xxh3_128(bytes))
}

/// Hashes a file in one streaming pass with a fixed 1 MiB buffer, whatever its size. Returns the
/// hash and the number of bytes read (which the caller compares with the size it expected).
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    hash_reader(&mut file)
}

pub fn hash_reader(reader: &mut impl Read) -> std::io::Result<(String, u64)> {
    let mut hasher = Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((to_hex(hasher.digest128()), total))
}

/// Compares two hashes written with or without leading zeros.
pub fn same_hash(a: &str, b: &str) -> bool {
    match (u128::from_str_radix(a, 16), u128::from_str_radix(b, 16)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_equals_one_shot() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (streamed, n) = hash_reader(&mut &data[..]).unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(streamed, hash_bytes(&data));
    }

    #[test]
    fn hex_has_no_leading_zeros_and_compares_numerically() {
        assert_eq!(to_hex(0x0abc), "abc");
        assert!(same_hash("00abc", "abc"));
        assert!(!same_hash("abc", "abd"));
        assert!(!same_hash("xyz", "xyz"));
        // Known value: XXH3-128 of the empty input.
        assert_eq!(hash_bytes(b""), "99aa06d3014798d86001c324468d497f");
    }
}
