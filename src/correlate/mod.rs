//! Putting what the inputs say on one timeline: each dropped connection is
//! explained by the rules that declare they can cause it ([`drops`]).
//!
//! Within one input the order of events is enough; across inputs times are
//! compared as given (after `--tz`).

pub mod drops;
