//! The built-in ITS sandbox (being written).
