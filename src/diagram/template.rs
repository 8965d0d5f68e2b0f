//! The diagram's formats from minijinja templates embedded in the binary
//! (`src/diagram/templates/`), each reading like the file it produces.
//!
//! The template's suffix decides how every `{{ }}` in it is escaped, so
//! that no author can forget it:
//!
//! | suffix | every value printed as |
//! | --- | --- |
//! | `.mmd.j2` | text inside a Mermaid label's double quotes ([`mermaid_text`]) |
//! | `.dot.j2` | text inside a DOT label's double quotes ([`dot_text`]) |
//! | `.svg.j2` | XML text or attribute value ([`xml_text`]) |
//!
//! The filter `id` prints an identifier made only of ASCII letters, digits
//! and `_`, safe in every format; `presence` prints ` · online` or
//! ` · offline` (nothing when not known); `join` joins strings and
//! `cut(N)` cuts text to N characters (both then escaped like any other
//! value). There is no `safe`, and an
//! `{% autoescape %}` block is an error. Undefined variables are errors
//! (`UndefinedBehavior::Strict`), and so is printing `none`, a list or a map.

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior};
use serde::Serialize;
use std::fmt::Write as _;
use std::sync::LazyLock;

/// `(name, text)` of each template.
const TEMPLATES: &[(&str, &str)] = &[
    ("diagram.mmd.j2", include_str!("templates/diagram.mmd.j2")),
    ("diagram.dot.j2", include_str!("templates/diagram.dot.j2")),
    ("diagram.svg.j2", include_str!("templates/diagram.svg.j2")),
];

/// How a kind of template escapes what it prints.
fn escape_of(name: &str) -> Option<fn(&str) -> String> {
    match name.strip_suffix(".j2")?.rsplit_once('.')?.1 {
        "mmd" => Some(mermaid_text),
        "dot" => Some(dot_text),
        "svg" => Some(xml_text),
        _ => None,
    }
}

/// `text` for a Mermaid label in double quotes (`#quot;` is its escape).
pub fn mermaid_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect::<String>()
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// `text` for a DOT label in double quotes.
pub fn dot_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// `text` for XML character data or a quoted attribute value, without
/// control characters.
pub fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| !c.is_control()) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `value` without control characters, cut to `max` characters, the last
/// one `…` when it was longer.
pub fn cut(value: &str, max: usize) -> String {
    let mut cut: String = value
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    if value.chars().count() > max {
        cut.pop();
        cut.push('…');
    }
    cut
}

/// An identifier safe in Mermaid and DOT, unique per `kind` and name
/// (names are DNS labels, but be safe with anything).
pub fn id(kind: &str, name: &str) -> String {
    let mut out = format!("{kind}_");
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            let _ = write!(out, "_{:x}_", c as u32);
        }
    }
    out
}

/// Prints a string or number escaped as the template's kind wants; safe
/// strings (the `id` filter's) as they are.
fn format(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    let escape = escape_of(state.name())
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "a template of no known kind"))?;
    if *state.auto_escape() != AutoEscape::Custom("diagram".into()) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "an `autoescape` block cannot change how a template escapes its values: remove it",
        ));
    }
    let text = match value.kind() {
        _ if value.is_safe() => value.to_string(),
        ValueKind::String | ValueKind::Number => escape(&value.to_string()),
        kind => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("a template printed {kind}, which has no text: print a string or a number"),
            ));
        }
    };
    out.write_str(&text).map_err(Error::from)
}

static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(crate::render::template::syntax());
    env.set_auto_escape_callback(|_| AutoEscape::Custom("diagram".into()));
    env.set_formatter(format);
    // Nothing may print a value unescaped.
    env.remove_filter("safe");
    env.add_filter("join", |items: Vec<String>, separator: &str| {
        items.join(separator)
    });
    env.add_filter("cut", |value: &str, max: usize| cut(value, max));
    env.add_filter("id", |name: &str, kind: &str| {
        Value::from_safe_string(id(kind, name))
    });
    env.add_filter("presence", |online: Option<bool>| match online {
        Some(true) => " · online",
        Some(false) => " · offline",
        None => "",
    });
    env.add_function("service_label", |what: &str, port: u16| {
        super::service_label(what, port)
    });
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("embedded template {name}: {e:#}"));
    }
    env
});

/// Renders template `name` with the fields of `context`. Every field a
/// template reads is in [`super::Diagram`], and the tests render each one:
/// a failure here is a bug in privai.
pub fn render(name: &str, context: impl Serialize) -> String {
    ENVIRONMENT
        .get_template(name)
        .and_then(|t| t.render(Value::from(minijinja::value::Serde(context))))
        .unwrap_or_else(|e| panic!("rendering the embedded template {name}: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_as(name: &str, source: &str) -> Result<String, Error> {
        let mut env = ENVIRONMENT.clone();
        env.add_template_owned(name.to_owned(), source.to_owned())?;
        env.get_template(name)?
            .render(minijinja::context! { name => "a\"b<c>\\", none => () })
    }

    #[test]
    fn identifiers_keep_only_safe_characters_and_stay_distinct() {
        assert_eq!(id("device", "alex-phone"), "device_alex_2d_phone");
        assert_ne!(id("d", "a-b"), id("d", "a_b"));
        assert!(
            id("d", "x\"];evil")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
    }

    #[test]
    fn labels_cannot_close_their_quotes() {
        assert_eq!(dot_text("a\"b\\"), "a\\\"b\\\\");
        assert_eq!(mermaid_text("a\"b<c>"), "a#quot;b#lt;c#gt;");
    }

    #[test]
    fn every_value_is_escaped_for_its_kind_and_none_cannot_be_turned_off() {
        assert_eq!(
            render_as("t.mmd.j2", "{{ name }}").unwrap(),
            "a#quot;b#lt;c#gt;\\"
        );
        assert_eq!(
            render_as("t.dot.j2", "{{ name }}").unwrap(),
            "a\\\"b<c>\\\\"
        );
        assert_eq!(
            render_as("t.dot.j2", "{{ name|id('x') }}").unwrap(),
            "x_a_22_b_3c_c_3e__5c_"
        );
        for source in [
            "{{ name|safe }}",
            "{% autoescape false %}{{ name }}{% endautoescape %}",
            "{{ missing }}",
            "{{ none }}",
        ] {
            assert!(render_as("t.dot.j2", source).is_err(), "{source}");
        }
        assert!(render_as("t.txt.j2", "{{ name }}").is_err());
    }
}
