//! Raw types (schema only, for now).
