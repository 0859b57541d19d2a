//! The offline ONC Oceans 3.0 simulator.
