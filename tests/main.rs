//! End-to-end tests of the `asrs-logscan` binary and its library, as one
//! test binary (faster to build than one per file).

mod bad_input;
mod builtin_rules;
mod captures;
mod clocks;
mod doctor;
mod drops;
mod formats;
mod invariance;
mod rules;
mod saz;
mod sources;
mod text_formats;
mod timeline;
mod util;
