use std::collections::HashMap;

/// Greets in several languages: «héllo wörld», 日本語.
pub fn greet() -> usize {
    let s = "héllo 😀 wörld"; let n: i32 = "ä";
    s.len()
}

pub fn later() {
    let unused = 1;
}
