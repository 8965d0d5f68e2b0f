//! The option modules and profiles, embedded in the binary.
//!
//! Each file is registered with Nickel under a virtual absolute path below
//! [`VIRTUAL_ROOT`], which is also an import path: `import
//! "privai/profiles/hardened.ncl"` in a user's spec resolves to the embedded
//! text, with no file next to the spec and none installed on the machine.

/// Directory under which bundled files are registered; never read from disk.
pub const VIRTUAL_ROOT: &str = "/__privai_bundled__";

/// Bundled files as `(import path, text)`; the import path is what users write.
pub const FILES: &[(&str, &str)] = &[
    (
        "privai/modules/lib.ncl",
        include_str!("../../modules/lib.ncl"),
    ),
    (
        "privai/modules/spec.ncl",
        include_str!("../../modules/spec.ncl"),
    ),
    (
        "privai/modules/hosts.ncl",
        include_str!("../../modules/hosts.ncl"),
    ),
    (
        "privai/modules/headscale.ncl",
        include_str!("../../modules/headscale.ncl"),
    ),
    (
        "privai/modules/tailnet.ncl",
        include_str!("../../modules/tailnet.ncl"),
    ),
    (
        "privai/modules/ollama.ncl",
        include_str!("../../modules/ollama.ncl"),
    ),
    (
        "privai/modules/openclaw.ncl",
        include_str!("../../modules/openclaw.ncl"),
    ),
    (
        "privai/modules/homeserver.ncl",
        include_str!("../../modules/homeserver.ncl"),
    ),
    (
        "privai/modules/monitoring.ncl",
        include_str!("../../modules/monitoring.ncl"),
    ),
    (
        "privai/profiles/m3-pro-36gb.ncl",
        include_str!("../../profiles/m3-pro-36gb.ncl"),
    ),
    (
        "privai/profiles/mac-16gb.ncl",
        include_str!("../../profiles/mac-16gb.ncl"),
    ),
    (
        "privai/profiles/mac-8gb.ncl",
        include_str!("../../profiles/mac-8gb.ncl"),
    ),
    (
        "privai/profiles/linux-server.ncl",
        include_str!("../../profiles/linux-server.ncl"),
    ),
    (
        "privai/profiles/hardened.ncl",
        include_str!("../../profiles/hardened.ncl"),
    ),
];

/// The names of the bundled profiles, e.g. `m3-pro-36gb`.
pub fn profile_names() -> impl Iterator<Item = &'static str> {
    FILES.iter().filter_map(|(path, _)| {
        path.strip_prefix("privai/profiles/")
            .and_then(|p| p.strip_suffix(".ncl"))
    })
}

/// Turns a virtual path back into the import path users know.
pub fn display_name(path: &str) -> Option<&str> {
    path.strip_prefix(VIRTUAL_ROOT)
        .map(|p| p.trim_start_matches('/'))
}

#[cfg(test)]
mod regex_tests {
    use super::FILES;

    /// `std.string.is_match RE VALUE` compiles RE at every call; bound once
    /// as `let NAME = std.string.is_match RE in`, RE is compiled once and
    /// `NAME` is applied to each value (Nickel's documented advice).
    #[test]
    fn bundled_modules_compile_each_regex_once() {
        let mut uses = 0;
        for (path, text) in FILES {
            for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                let Some((before, after)) = line.split_once("std.string.is_match") else {
                    continue;
                };
                uses += 1;
                let argument = after.trim().strip_suffix(" in").map(str::trim);
                assert!(
                    before.trim_start().starts_with("let ")
                        && before.trim_end().ends_with('=')
                        && argument.is_some_and(|a| !a.is_empty() && !a.contains(' ')),
                    "{path}: `{}` applies std.string.is_match in place; bind `let NAME = std.string.is_match RE in` once",
                    line.trim()
                );
            }
        }
        assert!(
            uses > 0,
            "the bundled modules no longer use std.string.is_match"
        );
    }
}
