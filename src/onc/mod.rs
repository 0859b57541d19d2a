//! The ONC Oceans 3.0 API client: the only code that knows HTTP.

pub mod token;

pub use token::Token;
