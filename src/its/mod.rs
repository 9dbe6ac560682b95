//! The ITS client (being written).
