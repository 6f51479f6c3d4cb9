//! Distribution at the edge: the published layout ([`layout`]), the publisher that
//! serves it (feature `serve`), the door-side feed that keeps a verifier fresh from
//! it (feature `feed`), and the same status in the standard formats (feature
//! `standards`: an IETF Token Status List, W3C Bitstring Status List credentials).
//!
//! Everything a door trusts is signed; the network only carries it. The publisher is
//! read-only and serves a directory that any writer following the layout's contract
//! fills (any static web server or CDN can serve it too, without the push channel);
//! the feed verifies everything it fetches or receives before a verifier takes it.

pub mod layout;

mod publish;
pub use publish::{LayoutReport, PublishError};

#[cfg(feature = "standards")]
pub mod standards;

#[cfg(any(feature = "serve", feature = "feed"))]
mod worker;

#[cfg(feature = "serve")]
pub mod serve;

#[cfg(feature = "feed")]
pub mod feed;
