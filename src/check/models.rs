//! Where models come from (`ollama.registry`, a model's `source`).
//!
//! - PRV068: a model's `source` is not `file:/ABSOLUTE/PATH`, or the
//!   mirror's `host` is not a plain `HOST[:PORT]`.
//! - PRV069: the mirror is reached over plain HTTP (`insecure`) at an
//!   address that is neither loopback nor on the tailnet (a tailnet IP, a
//!   host of the spec, a MagicDNS name): the models' weights would cross
//!   the LAN unencrypted and unauthenticated.

use crate::codes::{MIRROR_PLAIN_HTTP, MODEL_SOURCE};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::Spec;
use crate::net::{BindKind, bind_kind, host_part, port_part};

/// Runs this pass.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let ollama = SpecPath::root().key("ollama");
    for (index, model) in spec.ollama.models.iter().enumerate() {
        let Some(source) = &model.source else {
            continue;
        };
        if !source
            .strip_prefix("file:")
            .is_some_and(|p| p.starts_with('/'))
        {
            out.push(
                Diagnostic::error(
                    MODEL_SOURCE,
                    format!("model `{}` has `source = \"{source}\"`, but a source is a GGUF file on the Ollama host: `file:/PATH`", model.name),
                )
                .at(ollama.key("models").index(index).key("source"))
                .hint("write `source = \"file:/srv/models/NAME.gguf\"`, or leave `source` out to pull the model by its name"),
            );
        }
    }
    let Some(registry) = &spec.ollama.registry else {
        return;
    };
    let at = ollama.key("registry").key("host");
    let host = host_part(&registry.host);
    let plain = !registry.host.is_empty()
        && !registry.host.contains("://")
        && !registry.host.contains('/')
        && !host.is_empty()
        && (registry.host == host || port_part(&registry.host).is_some_and(|p| p > 0));
    if !plain {
        out.push(
            Diagnostic::error(
                MODEL_SOURCE,
                format!("`ollama.registry.host` is `{}`, but it must be the mirror's `HOST[:PORT]`, without a scheme or a path", registry.host),
            )
            .at(at)
            .hint("write e.g. `host = \"models.home.arpa:5000\"`; plain HTTP is `insecure = true`"),
        );
        return;
    }
    if registry.insecure && !on_the_tailnet(spec, host) {
        out.push(
            Diagnostic::warning(
                MIRROR_PLAIN_HTTP,
                format!("the model mirror `{}` is reached over plain HTTP (`insecure = true`), and `{host}` is neither loopback nor on the tailnet: the weights cross the network unencrypted and unauthenticated", registry.host),
            )
            .at(ollama.key("registry").key("insecure"))
            .hint("serve the mirror with TLS and drop `insecure`, or reach it on the tailnet (its tailnet IP, or its MagicDNS name)"),
        );
    }
}

/// Whether `host` is loopback or on the tailnet: a tailnet IP, a host of
/// the spec (MagicDNS names it), or a name under MagicDNS's base domain.
fn on_the_tailnet(spec: &Spec, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let dns = &spec.headscale.dns;
    matches!(bind_kind(&host), BindKind::Loopback | BindKind::Tailnet)
        || spec
            .hosts
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(&host))
        || (dns.magic_dns && host.ends_with(&format!(".{}", dns.base_domain.to_ascii_lowercase())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::load;

    const HOST: &str =
        "[[hosts]]\nname = \"server\"\nplatform = \"linux\"\nram_gb = 16\nroles = [\"ollama\"]\n";

    fn run(toml: &str) -> Vec<(String, String)> {
        let loaded = load(&format!("{HOST}{toml}"), "toml");
        let mut out = Vec::new();
        check(&loaded.spec, &mut out);
        out.into_iter()
            .map(|d| {
                (
                    d.code.to_owned(),
                    d.path.map(|p| p.to_string()).unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn a_source_must_be_an_absolute_file() {
        let found = run(
            "[[ollama.models]]\nname = \"tiny\"\nrole = \"primary\"\nsource = \"https://example/tiny.gguf\"\n",
        );
        assert_eq!(
            found,
            [("PRV068".to_owned(), "ollama.models[0].source".to_owned())]
        );
        let found = run(
            "[[ollama.models]]\nname = \"tiny\"\nrole = \"primary\"\nsource = \"file:tiny.gguf\"\n",
        );
        assert_eq!(
            found,
            [("PRV068".to_owned(), "ollama.models[0].source".to_owned())]
        );
        assert_eq!(
            run(
                "[[ollama.models]]\nname = \"tiny\"\nrole = \"primary\"\nsource = \"file:/srv/tiny.gguf\"\n"
            ),
            []
        );
    }

    #[test]
    fn the_mirror_host_is_a_plain_host_and_port() {
        for host in ["http://models:5000", "models:5000/library", ""] {
            let found = run(&format!("[ollama.registry]\nhost = \"{host}\"\n"));
            assert_eq!(
                found,
                [("PRV068".to_owned(), "ollama.registry.host".to_owned())],
                "{host}"
            );
        }
        assert_eq!(
            run("[ollama.registry]\nhost = \"models.home.arpa:5000\"\n"),
            []
        );
    }

    #[test]
    fn plain_http_to_a_mirror_off_the_tailnet_is_a_warning() {
        let found = run("[ollama.registry]\nhost = \"192.168.1.20:5000\"\ninsecure = true\n");
        assert_eq!(
            found,
            [("PRV069".to_owned(), "ollama.registry.insecure".to_owned())]
        );
        for host in [
            "127.0.0.1:5000",
            "localhost:5000",
            "100.64.0.7:5000",
            "server:5000",
        ] {
            assert_eq!(
                run(&format!(
                    "[ollama.registry]\nhost = \"{host}\"\ninsecure = true\n"
                )),
                [],
                "{host}"
            );
        }
    }
}
