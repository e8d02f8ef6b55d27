//! asrs-logscan: read what people capture while troubleshooting Azure
//! SignalR Service — ILogger console output, the ASP.NET SDK's trace-listener
//! `asrs.log.txt`, and more — and tell them what went wrong.
//!
//! The flow (see DESIGN.md): [`input`] finds and opens inputs and detects
//! their format, [`scan`] cuts each into record-aligned chunks parsed in
//! parallel by [`parse`] into [`event::Event`]s, collectors such as
//! [`summary`] gather what they need, [`correlate`] explains dropped
//! connections with the causes the rules found, and [`report`] turns it
//! all into the terminal tables or the JSON document. The library never prints.

pub mod analyze;
pub mod catalog;
pub mod correlate;
pub mod event;
pub mod fxhash;
pub mod input;
pub mod parse;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod signalr;
pub mod summary;
pub mod synth;
pub mod time;
