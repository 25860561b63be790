//! One module per command; each parses its arguments and calls the library crates.

pub mod apply;
pub mod catalog;
pub mod control;
pub mod demo;
pub mod due;
pub mod evidence;
pub mod export;
pub mod gateway;
pub mod guard;
pub mod history;
pub mod init;
pub mod ledger;
pub mod matrix;
pub mod redteam;
pub mod risk;
pub mod screening;
pub mod serve;
pub mod soa;
pub mod system;
