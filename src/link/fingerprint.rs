//! Content fingerprints of committed lines: how a squash commit's lines are traced back to the
//! branch commits that recorded them.
//!
//! A fingerprint is SHA-256 (ring) over the path and the line with its whitespace normalized
//! (trimmed, inner runs collapsed to one space), kept as its first 8 bytes: a 64-bit key is
//! plenty to find candidates, and a collision can only make a match ambiguous, which fails
//! closed. Lines with too little content to identify anything (`}`, `);`, blank) get none.

pub fn fingerprint(path: &str, line: &str) -> Option<i64> {
    if !crate::reattach::identifies(line) {
        return None;
    }
    let normalized: Vec<&str> = line.split_whitespace().collect();
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(path.as_bytes());
    context.update(b"\0");
    for (index, word) in normalized.iter().enumerate() {
        if index > 0 {
            context.update(b" ");
        }
        context.update(word.as_bytes());
    }
    let digest = context.finish();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    Some(i64::from_be_bytes(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_does_not_matter_but_path_and_content_do() {
        let a = fingerprint("src/a.rs", "    let x = 1;");
        assert!(a.is_some());
        assert_eq!(a, fingerprint("src/a.rs", "let  x =\t1;  "));
        assert_ne!(a, fingerprint("src/b.rs", "let x = 1;"));
        assert_ne!(a, fingerprint("src/a.rs", "let x = 2;"));
        assert_eq!(fingerprint("src/a.rs", "    }"), None);
        assert_eq!(fingerprint("src/a.rs", ""), None);
        assert_eq!(fingerprint("src/a.rs", "});"), None);
    }
}
