//! The offline ONC Oceans 3.0 simulator.

// Synthetic data (signal helper): keep these lines together.
pub mod events;
pub mod products;
pub mod render;
pub mod signal;
pub mod spectro;
