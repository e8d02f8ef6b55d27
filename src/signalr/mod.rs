//! What the tool knows about SignalR itself, shared by the capture readers
//! and the rules: access tokens and the hub protocol's frames.

pub mod connections;
pub mod hub_protocol;
pub mod jwt;
