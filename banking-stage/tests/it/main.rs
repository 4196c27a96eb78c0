//! Integration tests of `banking-stage`.

mod bank;
