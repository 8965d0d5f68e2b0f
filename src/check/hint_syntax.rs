//! Hints in the spec's own syntax. Hints are written in Nickel (`role =
//! 'fallback`, `{ name = "box" }`); for a TOML or JSON spec, the code in a
//! hint (between backticks) is rewritten into that syntax: Nickel's enum
//! tags become strings, and for JSON `a.b = v` becomes `"a": { "b": v }`.

/// The language a spec is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `.ncl`: hints as written.
    Nickel,
    /// `.toml`.
    Toml,
    /// `.json`.
    Json,
}

impl Syntax {
    /// The syntax of the spec at `path`, by its extension (Nickel otherwise).
    pub fn of(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Self::Toml,
            Some("json") => Self::Json,
            _ => Self::Nickel,
        }
    }
}

/// `hint` with the code between its backticks in `syntax`.
pub fn in_syntax(hint: &str, syntax: Syntax) -> String {
    if syntax == Syntax::Nickel {
        return hint.to_owned();
    }
    hint.split('`')
        .enumerate()
        .map(|(i, part)| match (i % 2, syntax) {
            (1, Syntax::Json) => json(&strings_for_tags(part)),
            (1, _) => strings_for_tags(part),
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("`")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `'linux` → `"linux"`, outside string literals.
fn strings_for_tags(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + 8);
    let mut chars = code.chars().peekable();
    let mut in_string = false;
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        if c == '"' {
            in_string = !in_string;
        }
        let starts_tag = !in_string
            && c == '\''
            && !is_ident(previous)
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_');
        if starts_tag {
            out.push('"');
            while let Some(&n) = chars.peek() {
                if !is_ident(n) {
                    break;
                }
                out.push(n);
                chars.next();
            }
            out.push('"');
            previous = '"';
            continue;
        }
        out.push(c);
        previous = c;
    }
    out
}

/// `a.b = v` → `"a": { "b": v }`, and `{ k = v, … }` → `{ "k": v, … }`.
fn json(code: &str) -> String {
    if code.starts_with('{') {
        return record_fields(code);
    }
    let Some((path, value)) = code.split_once(" = ") else {
        return code.to_owned();
    };
    let keys: Vec<&str> = path.split('.').collect();
    if keys
        .iter()
        .any(|k| k.is_empty() || !k.chars().all(is_ident))
    {
        return code.to_owned();
    }
    let value = record_fields(value);
    let mut out = String::new();
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.push_str("{ ");
        }
        out.push_str(&format!("\"{key}\": "));
    }
    out.push_str(&value);
    for _ in 1..keys.len() {
        out.push_str(" }");
    }
    out
}

/// The fields of the records in `value`: `{ k = v, l = w }` → `{ "k": v, "l": w }`.
fn record_fields(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut rest = value;
    while let Some(at) = rest.find(" = ") {
        let (before, after) = rest.split_at(at);
        let key_start = before.rfind(|c: char| !is_ident(c)).map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
        let (head, key) = before.split_at(key_start);
        let in_record = head.trim_end().ends_with(['{', ',']);
        if in_record && !key.is_empty() {
            out.push_str(head);
            out.push_str(&format!("\"{key}\":"));
        } else {
            out.push_str(before);
            out.push_str(" =");
        }
        rest = &after[" =".len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{Syntax, in_syntax};

    #[test]
    fn nickel_hints_stay_as_written() {
        let hint = "give it `role = 'fallback` (and list it)";
        assert_eq!(in_syntax(hint, Syntax::Nickel), hint);
    }

    #[test]
    fn toml_hints_write_enum_values_as_strings() {
        assert_eq!(
            in_syntax(
                "use `dm_policy = 'pairing` or `'allowlist` with `allow_from`",
                Syntax::Toml
            ),
            "use `dm_policy = \"pairing\"` or `\"allowlist\"` with `allow_from`"
        );
        assert_eq!(
            in_syntax(
                "add a host, e.g. `hosts = [{ name = \"box\", platform = 'linux, ram_gb = 16, roles = ['ollama] }]`",
                Syntax::Toml
            ),
            "add a host, e.g. `hosts = [{ name = \"box\", platform = \"linux\", ram_gb = 16, roles = [\"ollama\"] }]`"
        );
    }

    #[test]
    fn json_hints_write_keys_as_quoted_members_and_nest_dotted_paths() {
        assert_eq!(
            in_syntax(
                "or set `headscale.tls.mode = 'proxy` behind a proxy",
                Syntax::Json
            ),
            "or set `\"headscale\": { \"tls\": { \"mode\": \"proxy\" } }` behind a proxy"
        );
        assert_eq!(
            in_syntax(
                "e.g. `hosts = [{ name = \"box\", platform = 'linux, roles = ['ollama] }]`",
                Syntax::Json
            ),
            "e.g. `\"hosts\": [{ \"name\": \"box\", \"platform\": \"linux\", \"roles\": [\"ollama\"] }]`"
        );
        assert_eq!(
            in_syntax("set `memory_mb = 2048`", Syntax::Json),
            "set `\"memory_mb\": 2048`"
        );
        assert_eq!(
            in_syntax(
                "add `{ src = [\"group:trusted\"], dst = [\"box:18789\"], proto = 'tcp }` to `acl.rules`",
                Syntax::Json
            ),
            "add `{ \"src\": [\"group:trusted\"], \"dst\": [\"box:18789\"], \"proto\": \"tcp\" }` to `acl.rules`"
        );
    }

    #[test]
    fn code_without_nickel_in_it_is_left_alone() {
        for hint in [
            "listen on `0.0.0.0:443`",
            "the owner's `acl.tag_owners`",
            "the Mac's desktop, `'` alone",
        ] {
            assert_eq!(in_syntax(hint, Syntax::Json), hint);
            assert_eq!(in_syntax(hint, Syntax::Toml), hint);
        }
    }
}
