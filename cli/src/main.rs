//! `revocard`, the operator's tool: run an issuing office from a terminal.
#![forbid(unsafe_code)]

fn main() {
    println!("revocard {}", env!("CARGO_PKG_VERSION"));
}
