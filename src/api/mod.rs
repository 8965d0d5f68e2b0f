//! Clients of the HTTP APIs privai drives: Ollama (models), Headscale
//! (users, pre-auth keys, nodes), Synapse (Matrix accounts) and a private model mirror (sizes). Blocking, no proxy, with errors that name
//! the fix; `observe` reads through them and `apply` writes through them,
//! nothing else does.

pub mod headscale;
pub mod ollama;
pub mod pull_line;
pub mod registry;
pub mod synapse;
