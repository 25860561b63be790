//! The `airisk` binary: argument parsing and wiring only.
fn main() {}
