//! More than one machine: `privai plan`/`apply` without `--host` on a spec
//! whose hosts say how to reach them (`hosts[].deploy`). The order hosts
//! are applied in ([`order`], pure) and getting privai and the spec onto
//! each host and running it there ([`remote`]); the ACL rule a gateway
//! needs to reach Ollama on another host ([`wiring`]); the command itself is
//! `cli::fleet`.

pub mod order;
pub mod remote;
pub mod wiring;
