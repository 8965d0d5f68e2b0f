//! privai's integration tests, in one binary (one link of the Nickel engine).

mod corpus;
