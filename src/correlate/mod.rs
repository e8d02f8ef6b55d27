//! Putting what the inputs say on one timeline: each dropped connection is
//! explained by the rules that declare they can cause it ([`drops`]).
//!
//! Within one input the order of events is enough; across inputs times are
//! compared on aligned clocks ([`clocks`]): as given (after `--tz`), shifted
//! by `--offset`, or by an offset estimated from evidence they share.

pub mod clocks;
pub mod drops;
