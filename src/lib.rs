//! shoplink: links a partner's shops to the ITS platform. The README's *How it fits
//! together* is the map.

pub mod cli;
pub mod configuration;
pub mod crypto;
pub mod domain;
pub mod i18n;
pub mod its;
#[cfg(test)]
mod layering;
pub mod password;
pub mod sandbox;
pub mod seed;
pub mod services;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
