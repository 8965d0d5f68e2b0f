//! Clients of the HTTP APIs privai drives: Ollama (models) and Headscale
//! (users, pre-auth keys, nodes). Blocking, no proxy, with errors that name
//! the fix; `observe` reads through them and `apply` writes through them,
//! nothing else does.

pub mod headscale;
pub mod ollama;
pub mod pull_line;
