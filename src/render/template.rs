//! The text files privai writes or prints that no serde format fits
//! (systemd units and timers, join scripts, newsyslog entries, the join
//! steps of `privai build` and `privai enroll`, the spec `privai init`
//! writes), rendered from minijinja templates embedded in the binary
//! (`src/render/templates/`), so that each template reads like the file it
//! produces. YAML, JSON and plists stay serde.
//!
//! The kind of a template, named by its suffix, decides how every `{{ }}`
//! in it is escaped, so that no author can forget it:
//!
//! | suffix | every value printed as |
//! | --- | --- |
//! | `.sh.j2` | one POSIX shell word ([`escape::shell_word`]) |
//! | `.service.j2`, `.timer.j2` | one systemd command-line word ([`escape::systemd_word`]): `%` and `$` doubled, quoted as needed |
//! | `.newsyslog.j2` | one newsyslog field, or an error ([`escape::newsyslog_field`]) |
//! | `.ncl.j2` | a Nickel value: a string literal ([`escape::nickel_string`]), a number, an array |
//! | `.txt.j2` | itself (prose a person reads) |
//!
//! A list prints as its items, each escaped, separated by spaces (an argv;
//! in Nickel, an array).
//!
//! Where a setting needs another escaping, a named filter says so, and its
//! result is printed as it is:
//!
//! | filter | escapes for | in |
//! | --- | --- | --- |
//! | `comment` | a comment line | `.sh.j2`, `.ncl.j2` |
//! | `sh`, `powershell` | command words inside prose | `.txt.j2` |
//! | `unit_text` | a free-text setting such as `Description=` | `.service.j2`, `.timer.j2` |
//! | `unit_words` | words where `$` is plain, as in `Environment=` | `.service.j2`, `.timer.j2` |
//! | `tag` | a Nickel enum tag | `.ncl.j2` |
//!
//! Each filter escapes at least what its setting needs and works only in
//! its own kind of file, so none lets a value through unescaped. There is
//! no `safe`.
//!
//! Undefined variables are errors (`UndefinedBehavior::Strict`), and so is
//! printing `none`, a map or nothing.

use super::escape::{self, SystemdWord};
use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior};
use serde::Serialize;
use std::sync::LazyLock;

/// `(name, text)` of each template file of `src/render/templates`.
macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

/// Every template, by its file's name; the name's suffix is its [`Kind`].
const TEMPLATES: &[(&str, &str)] = embedded![
    "unit.service.j2",
    "unit.timer.j2",
    "privai.newsyslog.j2",
    "join.sh.j2",
    "join-header.txt.j2",
    "join-app.txt.j2",
    "join-windows.txt.j2",
    "privai.ncl.j2",
    "enroll-key-step.txt.j2",
    "enroll-posix.txt.j2",
    "enroll-windows.txt.j2",
    "enroll-app.txt.j2",
];

/// The kind of file a template produces, which decides its escaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Shell,
    Systemd,
    Newsyslog,
    Nickel,
    Prose,
}

impl Kind {
    /// The kind of template `name`, by its suffix.
    fn of(name: &str) -> Option<Self> {
        let stem = name.strip_suffix(".j2")?;
        let suffix = stem.rsplit_once('.')?.1;
        match suffix {
            "sh" => Some(Kind::Shell),
            "service" | "timer" => Some(Kind::Systemd),
            "newsyslog" => Some(Kind::Newsyslog),
            "ncl" => Some(Kind::Nickel),
            "txt" => Some(Kind::Prose),
            _ => None,
        }
    }

    /// The name minijinja carries for this kind.
    fn escape_name(self) -> &'static str {
        match self {
            Kind::Shell => "sh",
            Kind::Systemd => "systemd",
            Kind::Newsyslog => "newsyslog",
            Kind::Nickel => "ncl",
            Kind::Prose => "prose",
        }
    }

    fn auto_escape(self) -> AutoEscape {
        match self {
            Kind::Prose => AutoEscape::None,
            kind => AutoEscape::Custom(kind.escape_name().into()),
        }
    }

    /// A string, number or boolean as this kind prints it.
    fn scalar(self, value: &Value) -> Result<String, Error> {
        let text = value.to_string();
        Ok(match self {
            Kind::Shell => escape::shell_word(&text),
            Kind::Systemd => escape::systemd_word(&text, SystemdWord::Exec),
            Kind::Newsyslog => escape::newsyslog_field(&text)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?
                .to_owned(),
            Kind::Nickel if value.kind() == ValueKind::String => escape::nickel_string(&text),
            Kind::Nickel | Kind::Prose => text,
        })
    }

    /// A list's items, so printed, as this kind prints a list.
    fn list(self, items: Vec<String>) -> String {
        match self {
            Kind::Nickel => format!("[{}]", items.join(", ")),
            _ => items.join(" "),
        }
    }
}

/// `value` as text: a string, number or boolean by `scalar`, a list as its
/// items so printed, joined by `list`. Safe strings (the results of the
/// escaping filters) are printed as they are.
fn print(
    value: &Value,
    scalar: &dyn Fn(&Value) -> Result<String, Error>,
    list: &dyn Fn(Vec<String>) -> String,
) -> Result<String, Error> {
    if value.is_safe() {
        return Ok(value.to_string());
    }
    match value.kind() {
        ValueKind::String | ValueKind::Number | ValueKind::Bool => scalar(value),
        ValueKind::Seq | ValueKind::Iterable => {
            let items = value
                .try_iter()?
                .map(|item| print(&item, scalar, list))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(list(items))
        }
        kind => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "a template printed {kind}, which has no text: print a string, a number or a list"
            ),
        )),
    }
}

/// Prints every `{{ }}` escaped as the template's kind wants. The kind
/// comes from the template's name; an `{% autoescape %}` block that would
/// change it is an error, so no template can turn its escaping off.
fn format(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    let kind = Kind::of(state.name())
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "a template of no known kind"))?;
    if *state.auto_escape() != kind.auto_escape() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "an `autoescape` block cannot change how a template escapes its values: remove it",
        ));
    }
    let text = print(value, &|v| kind.scalar(v), &|items| kind.list(items))?;
    out.write_str(&text).map_err(Error::from)
}

/// A filter printing its value (a list as words separated by spaces)
/// escaped by `escape`, as is; only in templates of `kinds`, so that no
/// filter can stand in for the escaping of another kind of file.
fn filter(
    escape: fn(&str) -> String,
    kinds: &'static [Kind],
) -> impl Fn(&State, &Value) -> Result<Value, Error> {
    move |state, value| {
        if !Kind::of(state.name()).is_some_and(|kind| kinds.contains(&kind)) {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "this filter escapes for another kind of file than {}: use one of its own kind",
                    state.name()
                ),
            ));
        }
        let text = print(value, &|v| Ok(escape(&v.to_string())), &|items| {
            items.join(" ")
        })?;
        Ok(Value::from_safe_string(text))
    }
}

/// The syntax of privai's templates: the default delimiters, a block tag's
/// line leaves no blank line or indentation behind, and the file's last
/// newline is kept (each template reads like the file it produces).
pub fn syntax() -> minijinja::syntax::SyntaxConfig {
    minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are valid")
}

static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(syntax());
    env.set_auto_escape_callback(|name| {
        Kind::of(name).map_or(AutoEscape::Custom("unknown".into()), Kind::auto_escape)
    });
    env.set_formatter(format);
    use Kind::{Nickel, Prose, Shell, Systemd};
    env.add_filter("comment", filter(escape::shell_comment, &[Shell, Nickel]));
    env.add_filter("sh", filter(escape::shell_word, &[Prose]));
    env.add_filter("powershell", filter(escape::powershell_word, &[Prose]));
    env.add_filter("unit_text", filter(escape::systemd_text, &[Systemd]));
    env.add_filter(
        "unit_words",
        filter(|s| escape::systemd_word(s, SystemdWord::Plain), &[Systemd]),
    );
    env.add_filter("tag", filter(escape::nickel_tag, &[Nickel]));
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("embedded template {name}: {e:#}"));
    }
    env
});

/// Renders template `name` with the fields of `context`.
pub fn try_render(name: &str, context: impl Serialize) -> Result<String, Error> {
    ENVIRONMENT
        .get_template(name)?
        .render(Value::from(minijinja::value::Serde(context)))
}

/// Renders template `name` with the fields of `context`. The renderers
/// build every field their template reads from values that always print,
/// and the tests render every template: a failure here is a bug in privai.
pub fn render(name: &str, context: impl Serialize) -> String {
    try_render(name, context)
        .unwrap_or_else(|e| panic!("rendering the embedded template {name}: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Renders `source` as a template named `name` (its kind from the suffix).
    fn render_as(name: &str, source: &str, context: serde_json::Value) -> Result<String, Error> {
        let mut env = ENVIRONMENT.clone();
        env.add_template_owned(name.to_owned(), source.to_owned())?;
        env.get_template(name)?
            .render(Value::from(minijinja::value::Serde(context)))
    }

    const HOSTILE: &str = "it's $(reboot) `id`\n100% \"done\"; x";

    #[test]
    fn every_embedded_template_has_a_kind_and_parses() {
        for (name, _) in TEMPLATES {
            assert!(Kind::of(name).is_some(), "{name} has no known suffix");
            ENVIRONMENT.get_template(name).unwrap();
        }
    }

    #[test]
    fn every_file_in_the_templates_folder_is_embedded_under_its_own_name() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/render/templates");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let mut names: Vec<&str> = TEMPLATES.iter().map(|(name, _)| *name).collect();
        names.sort();
        assert_eq!(files, names);
    }

    #[test]
    fn a_template_of_no_known_kind_prints_nothing() {
        let err = render_as("x.yaml.j2", "a: {{ v }}", json!({"v": "b"})).unwrap_err();
        assert!(err.to_string().contains("no known kind"), "{err}");
    }

    #[test]
    fn an_autoescape_block_cannot_turn_the_escaping_off() {
        let source = "{% autoescape false %}echo {{ v }}{% endautoescape %}\n";
        let err = render_as("x.sh.j2", source, json!({"v": "$(reboot)"})).unwrap_err();
        assert!(err.to_string().contains("autoescape"), "{err}");
    }

    #[test]
    fn a_filter_of_another_kind_of_file_is_refused() {
        let err = render_as(
            "x.sh.j2",
            "echo {{ v|unit_text }}\n",
            json!({"v": "$(reboot)"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("another kind of file"), "{err}");
    }

    #[test]
    fn an_undefined_variable_is_an_error() {
        let err = render_as("x.txt.j2", "hello {{ nobody }}", json!({})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UndefinedError);
        let err = render_as("x.txt.j2", "{% if nobody %}x{% endif %}", json!({})).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UndefinedError);
    }

    #[test]
    fn printing_none_or_a_map_is_an_error() {
        assert!(render_as("x.txt.j2", "{{ v }}", json!({"v": null})).is_err());
        assert!(render_as("x.sh.j2", "{{ v }}", json!({"v": {"a": 1}})).is_err());
    }

    #[test]
    fn a_shell_template_quotes_every_value_as_one_word() {
        let out = render_as(
            "x.sh.j2",
            "echo {{ v }}\nrun {{ argv }}\n",
            json!({"v": HOSTILE, "argv": ["a b", "c", "$HOME"]}),
        )
        .unwrap();
        assert_eq!(
            out,
            "echo 'it'\\''s $(reboot) `id`\n100% \"done\"; x'\nrun 'a b' c '$HOME'\n"
        );
    }

    #[test]
    fn a_shell_comment_filter_keeps_a_value_on_the_comment_line() {
        let out = render_as("x.sh.j2", "# {{ v|comment }}\n", json!({"v": "a\nreboot"})).unwrap();
        assert_eq!(out, "# a reboot\n");
    }

    #[test]
    fn a_systemd_template_prints_values_as_command_words() {
        let out = render_as(
            "x.service.j2",
            "ExecStart={{ argv }}\n",
            json!({"argv": ["/bin/x", HOSTILE, "%h"]}),
        )
        .unwrap();
        assert_eq!(
            out,
            "ExecStart=/bin/x \"it's $$(reboot) `id`\\n100%% \\\"done\\\"; x\" %%h\n"
        );
    }

    #[test]
    fn the_systemd_filters_escape_text_and_plain_words() {
        let out = render_as(
            "x.timer.j2",
            "Description={{ v|unit_text }}\nEnvironment={{ e|unit_words }}\n",
            json!({"v": HOSTILE, "e": "A=$x y%"}),
        )
        .unwrap();
        assert_eq!(
            out,
            "Description=it's $(reboot) `id` 100%% \"done\"; x\nEnvironment=\"A=$x y%%\"\n"
        );
    }

    #[test]
    fn a_newsyslog_template_refuses_a_value_that_is_not_one_field() {
        let template = "{{ path }} 640\n";
        assert_eq!(
            render_as(
                "x.newsyslog.j2",
                template,
                json!({"path": "/var/log/a.log"})
            )
            .unwrap(),
            "/var/log/a.log 640\n"
        );
        for hostile in ["/a b.log", "/a.log\n/etc/x", "/a#.log"] {
            let err =
                render_as("x.newsyslog.j2", template, json!({ "path": hostile })).unwrap_err();
            assert!(err.to_string().contains("no quoting"), "{err}");
        }
    }

    #[test]
    fn a_nickel_template_prints_strings_as_literals_numbers_bare_and_lists_as_arrays() {
        let out = render_as(
            "x.ncl.j2",
            "{ a = {{ s }}, n = {{ n }}, l = {{ l }}, t = {{ t|tag }} }\n",
            json!({"s": "x\" , roles = [] %{ evil }", "n": 36, "l": ["a", "b"], "t": "linux"}),
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{ a = "x\" , roles = [] \%{ evil }", n = 36, l = ["a", "b"], t = 'linux }"#
                .to_owned()
                + "\n"
        );
    }

    #[test]
    fn prose_prints_values_as_they_are_and_commands_through_filters() {
        let out = render_as(
            "x.txt.j2",
            "Hello {{ v }}\n  sudo {{ argv|sh }}\n  {{ argv|powershell }}\n",
            json!({"v": "it's", "argv": ["rm", "a b"]}),
        )
        .unwrap();
        assert_eq!(out, "Hello it's\n  sudo rm 'a b'\n  rm 'a b'\n");
    }
}
