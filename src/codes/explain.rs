//! The long explanation of each diagnostic code, for `privai explain CODE`:
//! what the check looks at, why it matters, and how to fix it. One entry per
//! code; a new code adds one entry here (the test below asks for it).

use super::*;

/// Each code with its explanation.
pub const EXPLANATIONS: &[(&str, &str)] = &[
    (
        UNREADABLE,
        "privai could not read the spec: the file does not exist, is not readable, or its name does not end in `.ncl`, `.toml` or `.json`. Without a spec argument privai looks for `privai.ncl`, `privai.toml` and `privai.json` in the current directory.\n\nFix: pass the spec's path (`privai check path/to/privai.ncl`), or start from an example: `privai examples seed-home.ncl > privai.ncl`.",
    ),
    (
        SYNTAX,
        "The spec is not valid Nickel, TOML or JSON: a missing comma or brace, an unterminated string, a stray character. The diagnostic points at the first place the parser could not go on.\n\nFix: correct the syntax at the position shown; later errors are reported once this one is fixed.",
    ),
    (
        IMPORT,
        "A Nickel `import` names a file that does not exist. privai's own profiles and modules are compiled into the binary and imported as `privai/profiles/NAME.ncl`; any other import is resolved relative to the spec's directory and may not leave it.\n\nFix: correct the path, or use one of the bundled profiles (`m3-pro-36gb`, `mac-16gb`, `mac-8gb`, `linux-server`, `hardened`).",
    ),
    (
        UNKNOWN_OPTION,
        "The spec sets a key that no option module declares, usually a misspelling (`rams_gb`) or a key at the wrong level (`models` instead of `ollama.models`). Every option is declared in `modules/*.ncl`, and the modules are applied as a contract, so an unknown key is an error rather than silently ignored.\n\nFix: use the suggested name, or move the key to where the module declares it.",
    ),
    (
        CONTRACT,
        "A value has the wrong type or form for its option: a string where a number is expected, an enum value that is not one of the allowed ones, an address that does not parse. The diagnostic quotes the option's documentation.\n\nFix: give the option a value of the documented form. In TOML and JSON, enum values are plain strings (`\"darwin\"`); in Nickel they are tags (`'darwin`).",
    ),
    (
        MISSING,
        "An option that has no default was not given a value, e.g. a host without `name`, or a hardware fact that neither the host, `host_defaults` nor a profile provides.\n\nFix: set it in the spec, or import a profile that provides it.",
    ),
    (
        CONFLICT,
        "Two parts of the spec (often a profile and your own record) give one option different values at the same priority, and Nickel cannot merge them.\n\nFix: keep one of the definitions, or raise one's priority (`| force` in Nickel) if it must win. Profiles use `priority -10`, so your plain values already override them.",
    ),
    (
        EVALUATION,
        "Evaluating the spec failed for a reason none of the other codes covers: a Nickel function applied to the wrong value, an infinite recursion, a field accessed on something that is not a record.\n\nFix: read the message and the position shown; `nickel eval` on the spec can help for complex Nickel code.",
    ),
    (
        SCHEMA_MISMATCH,
        "The spec evaluated under the option modules, but privai's typed model could not read the result. The modules and the program disagree, which is a bug in privai, not in the spec.\n\nFix: report it with the spec (secrets removed); meanwhile avoid the option named in the message.",
    ),
    (
        UNKNOWN_USER,
        "A device's `user` or a group's member names a user that `users` does not declare. Headscale keys, ACL rules and enrollment are all per user, so the device could never join as intended.\n\nFix: declare the user in `users`, or correct the name.",
    ),
    (
        UNKNOWN_ACL_REF,
        "An ACL rule or test refers to a group, host, device, tag or user that the spec does not declare, so the policy Headscale receives would not mean what it says.\n\nFix: declare the group (`groups.NAME`), tag owner, host or device, or correct the name.",
    ),
    (
        DUPLICATE_NAME,
        "Two hosts, devices, users or models share a name. Names are how the spec refers to things (in ACLs, roles, the gateway's model list), so each must be unique.\n\nFix: rename one of them.",
    ),
    (
        DUPLICATE_IP,
        "Two hosts, devices or ACL aliases claim the same tailnet IP. Headscale would give one of them a different address, and ACL rules written for the address would reach the wrong node.\n\nFix: give each a distinct address inside the tailnet prefixes, or leave `tailnet_ip` unset to let Headscale choose.",
    ),
    (
        IP_OUTSIDE_PREFIX,
        "A tailnet IP lies outside `headscale.prefixes`, so Headscale can never assign it.\n\nFix: pick an address inside the prefixes (100.64.0.0/10 and fd7a:115c:a1e0::/48 by default), or widen the prefixes.",
    ),
    (
        PORT_CLASH,
        "Two services on one host would listen on the same port, so the second one fails to start.\n\nFix: move one of them to another port.",
    ),
    (
        SERVICE_HOST,
        "A service (Headscale, Ollama, the gateway) has no host to run on, more than one candidate host, or is placed on a host that does not have its role.\n\nFix: give exactly one host the role (`roles = [\"ollama\"]` in TOML or JSON, `roles = ['ollama]` in Nickel), or name the host in the service's `host` option.",
    ),
    (
        ACL_SYNTAX,
        "An ACL entry is malformed: a user without the trailing `@` Headscale requires, a destination without `:port`, or a port range that does not parse or runs backwards.\n\nFix: write users as `name@`, destinations as `target:port`, `target:lo-hi` or `target:*`.",
    ),
    (
        TAG_WITHOUT_OWNER,
        "A tag is used (by a device or an ACL rule) but `acl.tag_owners` names nobody who may assign it. Headscale rejects a policy with such a tag.\n\nFix: add the tag to `acl.tag_owners` with the users or groups who may assign it.",
    ),
    (
        EMPTY_GROUP,
        "A group has no members, or lists a member that is not a declared user. A rule for an empty group grants nothing, which is rarely what was meant.\n\nFix: add the group's members to `users` and to the group, or remove the group.",
    ),
    (
        OLLAMA_EXPOSED,
        "Ollama's API has no authentication: whoever reaches its port can run, pull and delete models. privai allows it on loopback or on the host's tailnet IP only, never on a LAN address or `0.0.0.0`.\n\nFix: set `ollama.listen` to `127.0.0.1:11434` (the gateway on the same host reaches it there) or to the host's tailnet IP.",
    ),
    (
        GATEWAY_EXPOSED,
        "The OpenClaw gateway is published on an address other than loopback or the host's tailnet IP, so anyone on the LAN (or the internet) could reach the agent.\n\nFix: publish it on `127.0.0.1` or the host's tailnet IP.",
    ),
    (
        OPEN_ORIGINS,
        "`ollama.origins` lets web pages from the listed origins call Ollama from a browser. `*` means any web page you visit could use your models (and, with a tailnet address, from any device's browser).\n\nFix: remove the origin unless a web UI you trust is served there; local origins are always allowed.",
    ),
    (
        HEADSCALE_LISTEN,
        "Headscale's listeners do not match how it is served: the metrics and debug endpoint (no authentication) is not on loopback, or the plain-HTTP listener is exposed beside a reverse proxy that terminates TLS.\n\nFix: keep `metrics_listen_addr` on loopback; behind a proxy, listen on loopback too.",
    ),
    (
        UNREACHABLE_OLLAMA,
        "The gateway is configured to talk to Ollama at an address it cannot reach, typically Ollama listening on loopback of another host.\n\nFix: run both on one host, or make Ollama listen on its host's tailnet IP and let the ACL allow the gateway's host to reach it.",
    ),
    (
        PRIVILEGED,
        "The gateway container runs privileged, which gives it all capabilities and the host's devices: a compromised agent would own the host.\n\nFix: remove `privileged`; if something really needs it, declare a hardening exception with the reason.",
    ),
    (
        CAPABILITIES,
        "The gateway container adds Linux capabilities or does not drop all of them. The gateway needs none.\n\nFix: `cap_drop = [\"ALL\"]` and no `cap_add`, or a hardening exception that says why.",
    ),
    (
        NEW_PRIVILEGES,
        "No-new-privileges is off, so a setuid binary inside the container could gain privileges.\n\nFix: turn `no_new_privileges` on (the `hardened` profile forces it).",
    ),
    (
        WRITABLE_ROOT,
        "The container's root file system is writable, so a compromised process could alter the gateway's own code.\n\nFix: `read_only = true`; the gateway's state lives in its data volume.",
    ),
    (
        ROOT_USER,
        "The container runs as root (uid 0). Combined with any other weakness this is root on the host in a rootful runtime.\n\nFix: run as an unprivileged user (the default `1000:1000`).",
    ),
    (
        EGRESS,
        "The container has internet egress or the host's network, so the agent could send your data anywhere. A private system keeps the gateway on an internal network that reaches Ollama and the messaging services only.\n\nFix: turn egress off, or declare an exception naming why and where it needs to go.",
    ),
    (
        SENSITIVE_MOUNT,
        "A sensitive host path is mounted into the container: the container runtime's socket (root on the host), a home directory, or a system directory.\n\nFix: mount only the directories the gateway needs, read-only where possible (`mode = \"ro\"` in TOML or JSON, `mode = 'ro` in Nickel).",
    ),
    (
        EXCEPTION,
        "A hardening exception has no real reason (empty, too short, a placeholder), relaxes nothing, or repeats another. Exceptions are shown in every plan, so they must say why.\n\nFix: write the reason as a full sentence, or remove the exception.",
    ),
    (
        UNPINNED_IMAGE,
        "The gateway image is referred to by tag only, so a later pull can run different code than the one you reviewed.\n\nFix: pin it by digest: `image@sha256:…`.",
    ),
    (
        LIMITS,
        "A container resource limit (memory, CPU, processes) is missing, or too small for the gateway to boot (it needs about 1 GiB of memory).\n\nFix: set the limit shown in the hint, e.g. `memory_mb = 2048`.",
    ),
    (
        LITERAL_SECRET,
        "A secret (a token or key) is written into the spec as a value. The spec is meant to live in git, so secrets are references only.\n\nFix: use `env:NAME`, `file:/path` or `keychain:ITEM`, and move the value there.",
    ),
    (
        SECRET_REF,
        "A secret reference is malformed: an unknown scheme, an empty name, or a relative `file:` path.\n\nFix: write `env:NAME`, `file:/absolute/path` or `keychain:ITEM`.",
    ),
    (
        SERVER_URL_DNS,
        "Headscale's `server_url` lies inside the MagicDNS base domain. Clients would resolve it through MagicDNS, which needs Headscale: they could not reconnect.\n\nFix: give `server_url` a host name outside `dns.base_domain`, or change the base domain.",
    ),
    (
        TLS,
        "The TLS settings are incomplete or inconsistent: certificate files in a mode that does not use them, a Let's Encrypt challenge that cannot work on the configured port, a missing certificate.\n\nFix: follow the hint for the mode you use (`self_signed`, `letsencrypt`, `proxy` or files).",
    ),
    (
        PREFIX_RANGE,
        "A tailnet prefix lies outside the range Tailscale clients support (100.64.0.0/10 for IPv4, fd7a:115c:a1e0::/48 for IPv6); clients would not route it.\n\nFix: use the supported range or a smaller range inside it.",
    ),
    (
        DERP_PUBLIC,
        "Relayed traffic and STUN go through Tailscale Inc.'s public DERP servers. The traffic stays end-to-end encrypted, but the system depends on, and reveals metadata to, an outside service.\n\nFix: use the embedded DERP server (it needs an https `server_url` and a reachable UDP `stun_port`).",
    ),
    (
        PLAIN_HTTP,
        "Clients reach Headscale over plain HTTP (or on a port other than 443), so their registration traffic is unencrypted or blocked by some networks.\n\nFix: serve Headscale over https on port 443.",
    ),
    (
        UNKNOWN_MODEL,
        "The gateway names a model (primary or fallback) that `ollama.models` does not declare, so privai would not pull it and the gateway would fail at its first message.\n\nFix: declare the model in `ollama.models`, or correct the name.",
    ),
    (
        MODEL_ROLES,
        "The models' roles are missing or inconsistent: no primary model, a fallback that is not declared with the fallback role, or a model with the fallback role that the gateway does not use.\n\nFix: give one model the primary role, and declare each fallback with the fallback role and list it in `openclaw.model.fallbacks`.",
    ),
    (
        CONTEXT_TOO_SMALL,
        "A model the gateway uses has a context window below OpenClaw's minimum of 16000 tokens; the gateway refuses such a model.\n\nFix: raise the model's `context_length` (check memory fit with `privai models`), or use another model.",
    ),
    (
        CHANNEL_POLICY,
        "A messaging channel accepts messages from anyone (`open`), or its allowlist is empty so it accepts no one. An open channel lets strangers drive your agent.\n\nFix: use the `pairing` policy (you approve each new sender) or `allowlist` with the senders' ids.",
    ),
    (
        CHANNEL_PLATFORM,
        "A channel cannot run where the gateway runs, e.g. iMessage, which needs macOS, on a Linux host or inside a container.\n\nFix: disable the channel or use another one (Telegram, Signal, WhatsApp).",
    ),
    (
        SCHEDULE,
        "A monitoring or key-rotation schedule is out of range (an hour outside 0–23, an interval of zero).\n\nFix: use a value in the range the hint gives.",
    ),
    (
        MEMORY_FIT,
        "A model does not fit its host's memory: its weights plus the KV cache for its context length, alone or together with the models loaded beside it, exceed what the host can give the GPU while leaving room for the system. Ollama would page or fail to load it.\n\nFix: a smaller model or quantization, a shorter `context_length`, a quantized KV cache, or fewer models loaded at once; `privai models SPEC` shows what would fit.",
    ),
    (
        UNKNOWN_CATALOG_MODEL,
        "A model is not in privai's model catalog, so its memory needs cannot be computed exactly; with `size_gb` privai counts the weights but not the KV cache.\n\nFix: use a catalogued model, or give `size_gb` and leave headroom.",
    ),
    (
        ACL_TEST_FAILED,
        "One of the spec's ACL tests (`acl.tests`) fails against the compiled policy: a source that must reach a destination cannot, one that must not can, or the test's source matches no node, so it proves nothing.\n\nFix: change the rules so the test holds, or the test if the rules are right.",
    ),
    (
        ACL_WIDE_OPEN,
        "A rule lets its sources reach every port of every node (`*:*`), Ollama and Headscale's host included, which defeats the point of the ACL.\n\nFix: open only the ports each group needs; the hint suggests a tighter rule.",
    ),
    (
        OLLAMA_REACHABLE,
        "A rule lets devices reach Ollama's port. Ollama has no authentication: any such device can run, pull and delete models. Only the gateway needs Ollama.\n\nFix: leave Ollama's port out of every rule for devices.",
    ),
    (
        GATEWAY_UNTRUSTED,
        "A rule lets a device whose user is in no group reach the gateway, which can act on your behalf.\n\nFix: restrict the gateway to a trusted group.",
    ),
    (
        RULE_NEVER_MATCHES,
        "A rule's sources select no host or device, so it can never match; usually a misspelt group or tag, or a group whose users own no device yet.\n\nFix: correct the sources, or remove the rule.",
    ),
    (
        PORT_NOT_SERVED,
        "A rule opens a port of a host privai deploys to, but no privai service listens there (Headscale, Ollama, the gateway, Headscale's STUN port) and the host does not declare anything else that does. An open port where nothing is meant to listen is either a leftover or a service privai does not know of; either way the policy grants more than the spec shows. A rule that opens every port of a host (`HOST:*`) is not reported. The gateway's port is reported too when the gateway is published on loopback only (`openclaw.bind = \"127.0.0.1\"`): the rule lets devices try a port that does not answer on the tailnet.\n\nFix: remove the port from the rule's destination, or, if something privai does not manage serves it (sshd, a file share), declare it on the host: `other_services = [{ name = \"ssh\", port = 22 }]`. For the gateway, publish it on the host's tailnet address (`openclaw.bind`).",
    ),
    (
        SERVICE_UNREACHED,
        "The gateway is published on the tailnet (`openclaw.bind` is the host's tailnet address) and the spec has devices, but no rule lets any device reach the gateway's port: nobody can use it over the tailnet.\n\nFix: add a rule for the people who use it, e.g. `{ src = [\"group:trusted\"], dst = [\"openclaw-server:18789\"], proto = 'tcp }` in `acl.rules`, or publish the gateway on loopback only (`openclaw.bind = \"127.0.0.1\"`) if it is used through its messaging channels alone.",
    ),
    (
        OTHER_SERVICE_CLASH,
        "A host's `other_services` declares a service on a port that one of privai's services on that host takes (Headscale's listener, Ollama's or the gateway's port). Two programs cannot listen on one port of the same address, so one of them fails to start; and the declaration hides nothing, since privai already serves that port.\n\nFix: remove the declaration if it means privai's own service, or move the other service (or privai's, with `headscale.listen_addr`, `ollama.port` or `openclaw.port`) to another port.",
    ),
    (
        MONITOR_BLIND,
        "The log monitor (`privai monitor`, `monitoring.alerts`) alerts on nodes that are not in the spec and on repeated refused API keys from Headscale's log. Headscale v0.29 logs a node connecting (`node connected … node.name=… user.name=…`) and each refused API key (`failed to validate token`, `invalid token`) at level `info`: with `headscale.log_level` at `warn` or `error` those lines are never written, and the monitor stays silent while it looks on.\n\nFix: keep `headscale.log_level = 'info` (the default), or turn the two alerts off to say you do not want them: `monitoring.alerts.unexpected_nodes = false`, `monitoring.alerts.auth_failures.enabled = false`.",
    ),
    (
        DEVICE_ISOLATED,
        "A device can reach no service and no other node: no rule's sources include it. It would join the tailnet for nothing.\n\nFix: add its user to a group the rules use, or remove the device.",
    ),
    (
        MODEL_SOURCE,
        "A model's `source` names where its weights come from when not from a registry: a GGUF file on the Ollama host, `file:/ABSOLUTE/PATH`, which privai uploads to Ollama and creates as the model. `ollama.registry.host` is a private mirror's `HOST[:PORT]`, from which privai has Ollama pull `HOST/NAMESPACE/MODEL:TAG`.\n\nFix: write `source = \"file:/srv/models/NAME.gguf\"`, and the mirror as `host = \"models.home.arpa:5000\"` (no scheme, no path; `insecure = true` for plain HTTP).",
    ),
    (
        MIRROR_PLAIN_HTTP,
        "With `ollama.registry.insecure = true`, Ollama pulls over plain HTTP: anyone on the path can read or replace the weights. On loopback or the tailnet (WireGuard encrypts it) that is fine; elsewhere it is not.\n\nFix: serve the mirror with TLS and drop `insecure`, or reach it on the tailnet by its tailnet IP or MagicDNS name.",
    ),
    (
        PATH_FORM,
        "A path the spec gives (a `file:` secret, a TLS certificate or key, Ollama's models directory, a folder's host or container path) is not absolute (or `~/` where the option allows it), or is not normalised: it has `..`, `.`, `//` or a trailing `/`. privai installs every path under `--root` (or `/`) and never resolves `..`, so such a path could land outside where it belongs.\n\nFix: write the path absolute and normalised, e.g. `/var/lib/privai/token` rather than `/var/lib/../lib/privai/token`.",
    ),
    (
        PATH_CHARACTER,
        "A path has a character its target format cannot carry: a control character (NUL, newline), a `:` in a folder path (compose's volume syntax is `HOST:CONTAINER[:MODE]`), or a `$` in a path compose reads (compose expands variables).\n\nFix: rename the directory, or choose another path without those characters.",
    ),
    (
        PORT_RANGE,
        "A `HOST:PORT` address (e.g. `headscale.listen_addr`) has no port, or a port outside 1 to 65535: the service would fail to start after apply.\n\nFix: give a port from 1 to 65535, e.g. `127.0.0.1:8080`.",
    ),
    (
        IMPORT_OUTSIDE,
        "A Nickel `import` (any form: `import \"x.ncl\"`, `import \"x\" as 'Text`, 'Json, 'Toml, 'Yaml, or an import inside an imported file) reaches outside the spec's own directory tree, by an absolute path, by `..`, or through a symlink. privai refuses it before reading a byte, so a spec from a pull request cannot read `/proc/self/environ`, `/etc/shadow` or `~/.ssh/…` into a diagnostic.\n\nFix: move the imported file under the spec's directory, or pass `--allow-import DIR` to open one more directory you trust.",
    ),
    (
        NOT_REGULAR_FILE,
        "An import, or the spec itself, is not a regular file: a device (`/dev/zero`, `/dev/urandom`), a FIFO or a socket. Reading one could take forever or without end.\n\nFix: import a regular file.",
    ),
    (
        SOURCE_TOO_LARGE,
        "An imported file or the spec is larger than privai reads (64 MiB).\n\nFix: split the data, or import only what the spec needs.",
    ),
    (
        TOO_DEEP,
        "The spec nests too deeply: more than 128 levels of JSON, TOML or YAML, 512 Nickel expressions, or a recursion deeper than the evaluation's stack. privai refuses it instead of overflowing its stack.\n\nFix: flatten the structure; a real spec nests a few levels.",
    ),
    (
        EVAL_MEMORY,
        "Evaluating the spec allocated more than `--max-eval-memory` (default 2GiB, `PRIVAI_MAX_EVAL_MEMORY`): usually an infinite recursion or a huge generated array.\n\nFix: look for a function that calls itself without end; raise the limit only for a spec you trust.",
    ),
    (
        EVAL_TIME,
        "Evaluating the spec took longer than `--max-eval-time` (default 60s, `PRIVAI_MAX_EVAL_TIME`).\n\nFix: look for a runaway computation in the spec; raise the limit only for a spec you trust.",
    ),
    (
        NOT_UTF8,
        "The spec or an imported text file is not UTF-8 (a binary file, or another encoding). The diagnostic points at the first bad byte.\n\nFix: save the file as UTF-8, or import the right file.",
    ),
    (
        DUPLICATE_KEY,
        "A JSON object names the same key twice; JSON parsers disagree on which one wins, so privai refuses it.\n\nFix: keep one of the two.",
    ),
    (
        NUMBER_RANGE,
        "A number is too large (or too small) for any option, e.g. `ram_gb = 1e30`.\n\nFix: give the option a value in its documented range.",
    ),
    (
        ENGINE_FAILURE,
        "The Nickel engine failed inside while evaluating the spec (a panic in nickel-lang-core). privai reports it instead of crashing.\n\nFix: simplify the expression at the location shown, and report the spec to privai's issue tracker.",
    ),
    (
        TAG_UPPERCASE,
        "A tag (on a device, a host, or in `acl.tag_owners`) has upper-case letters. Headscale 0.29 refuses such a tag (`tag should be lowercase`): a key with it cannot be created and a node cannot be given it.\n\nFix: write the tag in lower case, e.g. `tag:mobile`.",
    ),
    (
        CLOUD_CHANNEL,
        "An enabled OpenClaw channel carries every message and every answer through a company's servers: Telegram, WhatsApp, Discord and Slack read them in the clear; Signal and iMessage relay them end-to-end encrypted but still see who talks to the AI, and when; a Matrix channel with no homeserver in the spec talks to someone else's homeserver. The rest of the system keeps everything on the tailnet, so such a channel is the one place the conversation leaves it.\n\nFix: deploy the private homeserver (add `'homeserver` to a host's `roles`) and talk to the AI through `openclaw.channels.matrix` from a Matrix app on the tailnet. If the cloud channel is deliberate, acknowledge it on the channel with `cloud_reason = \"...\"` (a full sentence); the warning then goes away.",
    ),
    (
        CLOUD_REASON,
        "A channel's `cloud_reason` acknowledges that its messages pass through a third party's cloud. It must be a real reason (a full sentence of at least 20 characters, not a placeholder such as `TODO`), and it must acknowledge something: on the Matrix channel with the spec's own homeserver, or on a disabled channel, nothing leaves the tailnet.\n\nFix: write why the channel needs the cloud, or remove the stale `cloud_reason` so that it cannot silently allow a later change.",
    ),
    (
        HOMESERVER_UNREACHABLE,
        "With `homeserver.tailnet` on (the default), Synapse listens on loopback and on its host's tailnet address, which privai writes into `homeserver.yaml`; that needs the address pinned as the host's `tailnet_ip`. Without it Synapse listens on loopback only, and no phone or laptop of the tailnet reaches it.\n\nFix: pin the host's address (`tailnet_ip = \"100.64.0.1\"`, inside `headscale.prefixes.v4`), or set `homeserver.tailnet = false` if only the host itself should reach the homeserver.",
    ),
    (
        MATRIX_NO_TOKEN,
        "OpenClaw's Matrix channel signs in to the spec's homeserver as the AI's account (`@AI_USER:SERVER_NAME`, from `homeserver.ai_user`) with an access token. When the gateway runs on the homeserver's host and the channel has no `token`, `privai apply` makes the AI's account (with the registration shared secret) and writes its token where the gateway reads it (`/etc/privai/secrets/matrix-token`). When the gateway runs on another host, privai, which applies one host at a time, cannot hand the token over.\n\nFix: run the gateway on the homeserver's host (`openclaw.host`, `homeserver.host`); or, once `privai apply` has made the AI's account on the homeserver's host, sign it in (`POST /_matrix/client/v3/login` with the password `privai enroll --show-password` prints for it) and reference the token on the gateway's host: `openclaw.channels.matrix.token = \"env:MATRIX_AI_TOKEN\"`.",
    ),
];

/// The long explanation of `code`, if it has one.
pub fn explanation(code: &str) -> Option<&'static str> {
    EXPLANATIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::{ALL, EXPLANATIONS, explanation};

    #[test]
    fn every_code_has_a_long_explanation_that_says_how_to_fix_it() {
        let missing: Vec<&str> = ALL
            .iter()
            .map(|(code, _)| *code)
            .filter(|code| explanation(code).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "add an entry to EXPLANATIONS in src/codes/explain.rs for {missing:?}"
        );
        for (code, text) in EXPLANATIONS {
            assert!(text.contains("Fix:"), "{code} does not say how to fix it");
        }
    }

    #[test]
    fn every_explanation_is_of_a_known_code_and_there_is_one_per_code() {
        let mut seen = std::collections::BTreeSet::new();
        for (code, _) in EXPLANATIONS {
            assert!(ALL.iter().any(|(c, _)| c == code), "{code} is not in ALL");
            assert!(seen.insert(*code), "{code} is explained twice");
        }
    }
}
