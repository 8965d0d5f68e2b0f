//! privai's integration tests, in one binary (one link of the Nickel engine).

mod acl;
mod apply;
mod cli;
mod corpus;
mod enroll;
mod flake;
mod plan;
mod render_build;
mod render_headscale;
mod render_openclaw;
mod render_services;
mod sizing;
mod spec;
