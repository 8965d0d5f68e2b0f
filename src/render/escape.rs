//! How a value becomes inert text in each kind of file privai writes from a
//! template ([`super::template`]): one POSIX shell word, one systemd word
//! or free-text setting, one newsyslog field, one PowerShell argument, a
//! Nickel string or enum tag, a comment line. Pure string functions; the template environment applies
//! them to every `{{ }}` by the kind of the file.

use std::fmt::Write as _;

/// `text` as it is when it is made only of ASCII letters, digits and
/// `plain` characters, else between single quotes with each `'` inside
/// written `quote`.
fn single_quoted_unless_plain(text: &str, plain: &str, quote: &str) -> String {
    let is_plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || plain.contains(c));
    if is_plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', quote))
    }
}

/// `text` as one POSIX shell word: as is when it holds only safe
/// characters, else in single quotes with every `'` written `'\''`.
pub fn shell_word(text: &str) -> String {
    single_quoted_unless_plain(text, "_@%+=:,./-", r"'\''")
}

/// Text safe inside a shell comment line: line breaks become spaces, so
/// the comment cannot end early and start a command.
pub fn shell_comment(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// `text` as one PowerShell argument: as is when it holds only safe
/// characters, else in single quotes (no expansion) with `'` doubled.
pub fn powershell_word(text: &str) -> String {
    single_quoted_unless_plain(text, "_:./=-", "''")
}

/// The value of a free-text systemd setting (`Description=`, `Unit=`):
/// specifiers doubled (`%` → `%%`, systemd expands them in most settings)
/// and line breaks written as spaces, so the value cannot start another
/// setting.
pub fn systemd_text(text: &str) -> String {
    text.replace('%', "%%").replace(['\n', '\r'], " ")
}

/// Where a systemd word is read: a command line (`ExecStart=`), which
/// expands `$VARIABLES`, or any other setting, where `$` is plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemdWord {
    /// A command line: `$` is doubled too.
    Exec,
    /// A setting that does not expand variables.
    Plain,
}

/// One word of a systemd setting, quoted when it must be (systemd.syntax(7)):
/// specifiers doubled, `$` doubled in command lines, and inside double
/// quotes `\` and `"` escaped and control characters written as C escapes.
/// UTF-8 passes through.
pub fn systemd_word(text: &str, kind: SystemdWord) -> String {
    let mut body = String::new();
    let mut needs_quotes = text.is_empty();
    for c in text.chars() {
        match c {
            '%' => body.push_str("%%"),
            '$' if kind == SystemdWord::Exec => body.push_str("$$"),
            '\\' => {
                body.push_str("\\\\");
                needs_quotes = true;
            }
            '"' => {
                body.push_str("\\\"");
                needs_quotes = true;
            }
            '\n' => {
                body.push_str("\\n");
                needs_quotes = true;
            }
            '\t' => {
                body.push_str("\\t");
                needs_quotes = true;
            }
            c if c.is_control() => {
                let _ = write!(body, "\\x{:02x}", u32::from(c));
                needs_quotes = true;
            }
            c if c.is_whitespace() || c == '\'' || c == ';' => {
                body.push(c);
                needs_quotes = true;
            }
            c => body.push(c),
        }
    }
    if needs_quotes {
        format!("\"{body}\"")
    } else {
        body
    }
}

/// `text` as a Nickel string literal: JSON's string escapes, which are
/// Nickel's, and `%{` (which would start an interpolation) escaped.
pub fn nickel_string(text: &str) -> String {
    serde_json::to_string(text)
        .expect("a string always serializes")
        .replace("%{", "\\%{")
}

/// `text` as a Nickel enum tag: `'name` for an identifier, else quoted
/// (`'"…"`).
pub fn nickel_tag(text: &str) -> String {
    let mut chars = text.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-'".contains(c));
    if identifier {
        format!("'{text}")
    } else {
        format!("'{}", nickel_string(text))
    }
}

/// Why a value cannot be one field of a newsyslog.conf(5) line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` cannot be one field of newsyslog.conf, which has no quoting: use a value without spaces, control characters or `#`"
)]
pub struct NotOneField(pub String);

/// `text` as one field of a newsyslog.conf(5) line. newsyslog splits a
/// line at blanks, starts a comment at `#` and knows no quoting, so a value
/// holding any of them (or nothing) is refused rather than written.
pub fn newsyslog_field(text: &str) -> Result<&str, NotOneField> {
    let plain = !text.is_empty()
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '#');
    if plain {
        Ok(text)
    } else {
        Err(NotOneField(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_quotes_and_spaces() {
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("--hostname=laptop"), "--hostname=laptop");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn a_shell_word_keeps_substitutions_and_line_breaks_inert() {
        assert_eq!(shell_word("$(reboot)"), "'$(reboot)'");
        assert_eq!(shell_word("`id`"), "'`id`'");
        assert_eq!(shell_word("a\nrm -rf /"), "'a\nrm -rf /'");
        assert_eq!(shell_word("x'; reboot; '"), r"'x'\''; reboot; '\'''");
    }

    #[test]
    fn a_shell_comment_cannot_end_its_line() {
        assert_eq!(shell_comment("a\nreboot\r"), "a reboot ");
    }

    #[test]
    fn powershell_arguments_are_quoted_only_when_needed() {
        assert_eq!(powershell_word("--hostname=laptop"), "--hostname=laptop");
        assert_eq!(
            powershell_word("--advertise-tags=tag:a,tag:b"),
            "'--advertise-tags=tag:a,tag:b'"
        );
        assert_eq!(powershell_word("it's"), "'it''s'");
        assert_eq!(powershell_word("$(Stop-Computer)"), "'$(Stop-Computer)'");
    }

    #[test]
    fn systemd_text_doubles_specifiers_and_stays_on_its_line() {
        assert_eq!(systemd_text("100% up"), "100%% up");
        assert_eq!(
            systemd_text("x\nExecStartPre=/bin/reboot"),
            "x ExecStartPre=/bin/reboot"
        );
    }

    #[test]
    fn a_systemd_command_word_quotes_spaces_and_doubles_dollars_and_specifiers() {
        use SystemdWord::Exec;
        assert_eq!(systemd_word("/usr/bin/ollama", Exec), "/usr/bin/ollama");
        assert_eq!(systemd_word("a b", Exec), "\"a b\"");
        assert_eq!(systemd_word("$HOME%h", Exec), "$$HOME%%h");
        assert_eq!(systemd_word("say \"hi\"", Exec), "\"say \\\"hi\\\"\"");
        assert_eq!(systemd_word("a\nb;c", Exec), "\"a\\nb;c\"");
        assert_eq!(systemd_word("$(reboot)", Exec), "$$(reboot)");
        assert_eq!(systemd_word("", Exec), "\"\"");
    }

    #[test]
    fn a_plain_systemd_word_keeps_dollars() {
        assert_eq!(systemd_word("A=$x %i", SystemdWord::Plain), "\"A=$x %%i\"");
    }

    #[test]
    fn a_nickel_string_cannot_end_early_or_interpolate() {
        assert_eq!(nickel_string("plain"), "\"plain\"");
        assert_eq!(
            nickel_string("x\" , roles = [] %{ evil }\n"),
            r#""x\" , roles = [] \%{ evil }\n""#
        );
    }

    #[test]
    fn a_nickel_tag_is_bare_only_for_an_identifier() {
        assert_eq!(nickel_tag("x86_64"), "'x86_64");
        assert_eq!(nickel_tag("darwin"), "'darwin");
        assert_eq!(nickel_tag("a b, evil"), "'\"a b, evil\"");
        assert_eq!(nickel_tag("9x"), "'\"9x\"");
    }

    #[test]
    fn a_newsyslog_field_refuses_what_would_split_or_end_the_line() {
        assert_eq!(newsyslog_field("/var/log/a.log"), Ok("/var/log/a.log"));
        for hostile in ["a b", "a\nb", "a#b", "", "a\tb"] {
            assert_eq!(
                newsyslog_field(hostile),
                Err(NotOneField(hostile.to_owned()))
            );
        }
    }
}
