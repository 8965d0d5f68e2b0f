//! privai's integration tests, in one binary (one link of the Nickel engine).

mod cli;
mod corpus;
mod flake;
mod sizing;
mod spec;
