//! The catalogue of diagnostic codes. Codes are stable: a code, once
//! released, keeps its meaning, so CI filters and docs can rely on it.
//! `privai explain CODE` prints the long explanation of each ([`explain`]).

pub mod explain;

/// The spec file cannot be read or has an unsupported extension.
pub const UNREADABLE: &str = "PRV000";
/// Syntax error in the spec.
pub const SYNTAX: &str = "PRV001";
/// An import cannot be resolved.
pub const IMPORT: &str = "PRV002";
/// Unknown option (a misspelt or misplaced key).
pub const UNKNOWN_OPTION: &str = "PRV003";
/// A value breaks its option's contract (wrong type or form).
pub const CONTRACT: &str = "PRV004";
/// A required option has no value.
pub const MISSING: &str = "PRV005";
/// Two definitions of one option conflict.
pub const CONFLICT: &str = "PRV006";
/// Other evaluation error.
pub const EVALUATION: &str = "PRV007";
/// The option modules and privai's model disagree (a privai bug).
pub const SCHEMA_MISMATCH: &str = "PRV008";
/// A device or group names a user the spec does not declare.
pub const UNKNOWN_USER: &str = "PRV010";
/// An ACL rule or test names a group, host, device, tag or user the spec does not declare.
pub const UNKNOWN_ACL_REF: &str = "PRV011";
/// Two hosts, devices, users or models share a name.
pub const DUPLICATE_NAME: &str = "PRV012";
/// Two hosts, devices or ACL aliases share a tailnet IP.
pub const DUPLICATE_IP: &str = "PRV013";
/// A tailnet IP lies outside the tailnet prefixes.
pub const IP_OUTSIDE_PREFIX: &str = "PRV014";
/// Two services of one host listen on the same port.
pub const PORT_CLASH: &str = "PRV015";
/// A service has no host, an ambiguous host, or a host without its role.
pub const SERVICE_HOST: &str = "PRV016";
/// An ACL entry is malformed (user without `@`, destination without port, bad port range).
pub const ACL_SYNTAX: &str = "PRV017";
/// A tag is used but has no owner in `acl.tag_owners`.
pub const TAG_WITHOUT_OWNER: &str = "PRV018";
/// A group has no members, or a member is not a user.
pub const EMPTY_GROUP: &str = "PRV019";
/// Ollama listens on something other than loopback or the host's tailnet IP.
pub const OLLAMA_EXPOSED: &str = "PRV020";
/// The gateway is published on something other than loopback or the host's tailnet IP.
pub const GATEWAY_EXPOSED: &str = "PRV021";
/// Ollama accepts any browser origin.
pub const OPEN_ORIGINS: &str = "PRV022";
/// Headscale's listeners are exposed or inconsistent with the TLS mode.
pub const HEADSCALE_LISTEN: &str = "PRV023";
/// The gateway cannot reach Ollama (other host, loopback bind).
pub const UNREACHABLE_OLLAMA: &str = "PRV024";
/// The gateway container is privileged.
pub const PRIVILEGED: &str = "PRV030";
/// Capabilities are added, or not all are dropped.
pub const CAPABILITIES: &str = "PRV031";
/// No-new-privileges is off.
pub const NEW_PRIVILEGES: &str = "PRV032";
/// The container's root file system is writable.
pub const WRITABLE_ROOT: &str = "PRV033";
/// The container runs as root.
pub const ROOT_USER: &str = "PRV034";
/// The container has internet egress or the host network.
pub const EGRESS: &str = "PRV035";
/// A sensitive host path (container socket, home directory, system directory) is mounted.
pub const SENSITIVE_MOUNT: &str = "PRV036";
/// A hardening exception has no real reason, or relaxes nothing.
pub const EXCEPTION: &str = "PRV037";
/// The gateway image is not pinned by digest.
pub const UNPINNED_IMAGE: &str = "PRV038";
/// A container resource limit is missing or too small to run.
pub const LIMITS: &str = "PRV039";
/// A secret is given as a value instead of a reference.
pub const LITERAL_SECRET: &str = "PRV040";
/// A secret reference is malformed.
pub const SECRET_REF: &str = "PRV041";
/// Headscale's server_url clashes with the MagicDNS base domain.
pub const SERVER_URL_DNS: &str = "PRV050";
/// The TLS settings are incomplete or inconsistent.
pub const TLS: &str = "PRV051";
/// A tailnet prefix lies outside the range Tailscale clients support.
pub const PREFIX_RANGE: &str = "PRV052";
/// Relay traffic goes through Tailscale Inc.'s public DERP servers.
pub const DERP_PUBLIC: &str = "PRV053";
/// Clients reach Headscale over plain HTTP.
pub const PLAIN_HTTP: &str = "PRV054";
/// The gateway names a model that `ollama.models` does not declare.
pub const UNKNOWN_MODEL: &str = "PRV060";
/// The primary or fallback models are missing or inconsistent with their roles.
pub const MODEL_ROLES: &str = "PRV061";
/// A gateway model's context window is below OpenClaw's minimum of 16000 tokens.
pub const CONTEXT_TOO_SMALL: &str = "PRV062";
/// A messaging channel is open to anyone, or allows no one.
pub const CHANNEL_POLICY: &str = "PRV063";
/// A channel cannot run where the gateway runs.
pub const CHANNEL_PLATFORM: &str = "PRV064";
/// A monitoring schedule is out of range.
pub const SCHEDULE: &str = "PRV065";
/// A model does not fit its host's memory, alone or with the models loaded beside it.
pub const MEMORY_FIT: &str = "PRV066";
/// A model is not in privai's catalog, so its memory cannot be sized.
pub const UNKNOWN_CATALOG_MODEL: &str = "PRV067";
/// One of the spec's ACL tests fails.
pub const ACL_TEST_FAILED: &str = "PRV070";
/// A rule opens every port of every node (`*:*`).
pub const ACL_WIDE_OPEN: &str = "PRV071";
/// Ollama's port is reachable from a device (it has no authentication).
pub const OLLAMA_REACHABLE: &str = "PRV072";
/// The gateway is reachable from a device whose user is in no group.
pub const GATEWAY_UNTRUSTED: &str = "PRV073";
/// A rule's sources select no node: it can never match.
pub const RULE_NEVER_MATCHES: &str = "PRV074";
/// A device can reach no service and no other device.
pub const DEVICE_ISOLATED: &str = "PRV075";
/// A path in the spec is not absolute (or `~/` where allowed) or not normalised (`..`, `.`, `//`).
pub const PATH_FORM: &str = "PRV080";
/// A path has a character its target format cannot carry (a control character, `:` in a volume, `$` for compose).
pub const PATH_CHARACTER: &str = "PRV081";
/// A `HOST:PORT` address has no port, or a port outside 1 to 65535.
pub const PORT_RANGE: &str = "PRV082";

/// A model's `source`, or the model mirror's host, is malformed.
pub const MODEL_SOURCE: &str = "PRV068";
/// The model mirror is reached over plain HTTP off the tailnet.
pub const MIRROR_PLAIN_HTTP: &str = "PRV069";
/// A tag has upper-case letters, which Headscale refuses ("tag should be lowercase").
pub const TAG_UPPERCASE: &str = "PRV076";
/// A rule opens a port of a privai host where neither privai nor a declared `other_services` listens.
pub const PORT_NOT_SERVED: &str = "PRV077";
/// A privai service devices are meant to reach (the gateway) is reached by no rule.
pub const SERVICE_UNREACHED: &str = "PRV078";
/// A host declares, in `other_services`, a port a privai service of the host takes.
pub const OTHER_SERVICE_CLASH: &str = "PRV079";
/// Headscale's log level hides the lines the log monitor's alerts read.
pub const MONITOR_BLIND: &str = "PRV101";

/// Every code with a one-line summary, for the docs and `--format json` consumers.
/// An import reaches outside the spec's directory tree (and every `--allow-import` directory).
pub const IMPORT_OUTSIDE: &str = "PRV085";
/// An import (or the spec) is not a regular file: a device, FIFO, socket or directory.
pub const NOT_REGULAR_FILE: &str = "PRV086";
/// An imported file (or the spec) is larger than privai reads.
pub const SOURCE_TOO_LARGE: &str = "PRV087";
/// The spec nests too deeply (in its text, or while evaluating).
pub const TOO_DEEP: &str = "PRV088";
/// Evaluating the spec used more memory than `--max-eval-memory`.
pub const EVAL_MEMORY: &str = "PRV089";
/// Evaluating the spec took longer than `--max-eval-time`.
pub const EVAL_TIME: &str = "PRV090";
/// The spec or an imported file is not UTF-8 text.
pub const NOT_UTF8: &str = "PRV091";
/// A JSON object names the same key twice.
pub const DUPLICATE_KEY: &str = "PRV092";
/// A number is out of the range any option accepts.
pub const NUMBER_RANGE: &str = "PRV093";
/// The Nickel engine failed inside (a bug in Nickel, met by this spec).
pub const ENGINE_FAILURE: &str = "PRV094";
/// An enabled channel carries messages through a third party's cloud.
pub const CLOUD_CHANNEL: &str = "PRV097";
/// A channel's `cloud_reason` is not a reason, or acknowledges nothing.
pub const CLOUD_REASON: &str = "PRV098";
/// The homeserver should listen on the tailnet but its host has no pinned address.
pub const HOMESERVER_UNREACHABLE: &str = "PRV099";
/// The Matrix channel on the spec's homeserver has no token to sign in with
/// (none in the spec, and the gateway is not on the homeserver's host,
/// where privai makes the AI's).
pub const MATRIX_NO_TOKEN: &str = "PRV100";

pub const ALL: &[(&str, &str)] = &[
    (
        UNREADABLE,
        "the spec file cannot be read or has an unsupported extension",
    ),
    (SYNTAX, "syntax error in the spec"),
    (IMPORT, "an import cannot be resolved"),
    (
        UNKNOWN_OPTION,
        "unknown option (a misspelt or misplaced key)",
    ),
    (
        CONTRACT,
        "a value breaks its option's contract (wrong type or form)",
    ),
    (MISSING, "a required option has no value"),
    (CONFLICT, "two definitions of one option conflict"),
    (EVALUATION, "other evaluation error"),
    (
        SCHEMA_MISMATCH,
        "the option modules and privai's model disagree (a privai bug)",
    ),
    (
        UNKNOWN_USER,
        "a device or group names a user the spec does not declare",
    ),
    (
        UNKNOWN_ACL_REF,
        "an ACL rule or test names a group, host, device, tag or user the spec does not declare",
    ),
    (
        DUPLICATE_NAME,
        "two hosts, devices, users or models share a name",
    ),
    (
        DUPLICATE_IP,
        "two hosts, devices or ACL aliases share a tailnet IP",
    ),
    (
        IP_OUTSIDE_PREFIX,
        "a tailnet IP lies outside the tailnet prefixes",
    ),
    (
        PORT_CLASH,
        "two services of one host listen on the same port",
    ),
    (
        SERVICE_HOST,
        "a service has no host, an ambiguous host, or a host without its role",
    ),
    (
        ACL_SYNTAX,
        "an ACL entry is malformed (user without `@`, destination without port, bad port range)",
    ),
    (
        TAG_WITHOUT_OWNER,
        "a tag is used but has no owner in `acl.tag_owners`",
    ),
    (
        EMPTY_GROUP,
        "a group has no members, or a member is not a user",
    ),
    (
        OLLAMA_EXPOSED,
        "Ollama listens on something other than loopback or the host's tailnet IP",
    ),
    (
        GATEWAY_EXPOSED,
        "the gateway is published on something other than loopback or the host's tailnet IP",
    ),
    (OPEN_ORIGINS, "Ollama accepts any browser origin"),
    (
        HEADSCALE_LISTEN,
        "Headscale's listeners are exposed or inconsistent with the TLS mode",
    ),
    (
        UNREACHABLE_OLLAMA,
        "the gateway cannot reach Ollama (other host, loopback bind)",
    ),
    (PRIVILEGED, "the gateway container is privileged"),
    (
        CAPABILITIES,
        "capabilities are added, or not all are dropped",
    ),
    (NEW_PRIVILEGES, "no-new-privileges is off"),
    (
        WRITABLE_ROOT,
        "the container's root file system is writable",
    ),
    (ROOT_USER, "the container runs as root"),
    (
        EGRESS,
        "the container has internet egress or the host network",
    ),
    (
        SENSITIVE_MOUNT,
        "a sensitive host path (container socket, home directory, system directory) is mounted",
    ),
    (
        EXCEPTION,
        "a hardening exception has no real reason, or relaxes nothing",
    ),
    (UNPINNED_IMAGE, "the gateway image is not pinned by digest"),
    (
        LIMITS,
        "a container resource limit is missing or too small to run",
    ),
    (
        LITERAL_SECRET,
        "a secret is given as a value instead of a reference",
    ),
    (SECRET_REF, "a secret reference is malformed"),
    (
        SERVER_URL_DNS,
        "Headscale's server_url clashes with the MagicDNS base domain",
    ),
    (TLS, "the TLS settings are incomplete or inconsistent"),
    (
        PREFIX_RANGE,
        "a tailnet prefix lies outside the range Tailscale clients support",
    ),
    (
        DERP_PUBLIC,
        "relay traffic goes through Tailscale Inc.'s public DERP servers",
    ),
    (PLAIN_HTTP, "clients reach Headscale over plain HTTP"),
    (
        UNKNOWN_MODEL,
        "the gateway names a model that `ollama.models` does not declare",
    ),
    (
        MODEL_ROLES,
        "the primary or fallback models are missing or inconsistent with their roles",
    ),
    (
        CONTEXT_TOO_SMALL,
        "a gateway model's context window is below OpenClaw's minimum of 16000 tokens",
    ),
    (
        CHANNEL_POLICY,
        "a messaging channel is open to anyone, or allows no one",
    ),
    (
        CHANNEL_PLATFORM,
        "a channel cannot run where the gateway runs",
    ),
    (SCHEDULE, "a monitoring schedule is out of range"),
    (
        MEMORY_FIT,
        "a model does not fit its host's memory, alone or with the models loaded beside it",
    ),
    (
        UNKNOWN_CATALOG_MODEL,
        "a model is not in privai's catalog, so its memory cannot be sized",
    ),
    (
        MODEL_SOURCE,
        "a model's `source`, or the model mirror's host, is malformed",
    ),
    (
        MIRROR_PLAIN_HTTP,
        "the model mirror is reached over plain HTTP off loopback and the tailnet",
    ),
    (ACL_TEST_FAILED, "one of the spec's ACL tests fails"),
    (
        ACL_WIDE_OPEN,
        "a rule opens every port of every node (`*:*`)",
    ),
    (
        OLLAMA_REACHABLE,
        "Ollama's port is reachable from a device (it has no authentication)",
    ),
    (
        GATEWAY_UNTRUSTED,
        "the gateway is reachable from a device whose user is in no group",
    ),
    (
        RULE_NEVER_MATCHES,
        "a rule's sources select no node: it can never match",
    ),
    (
        DEVICE_ISOLATED,
        "a device can reach no service and no other device",
    ),
    (
        PORT_NOT_SERVED,
        "a rule opens a port of a privai host where nothing privai knows of listens",
    ),
    (SERVICE_UNREACHED, "no rule lets a device reach the gateway"),
    (
        OTHER_SERVICE_CLASH,
        "a host's `other_services` names a port a privai service of the host takes",
    ),
    (
        MONITOR_BLIND,
        "Headscale's log level hides what the log monitor's alerts read",
    ),
    (
        PATH_FORM,
        "a path is not absolute (or `~/` where allowed) or not normalised (`..`, `.`, `//`)",
    ),
    (
        PATH_CHARACTER,
        "a path has a character its target format cannot carry (control character, `:` in a volume, `$` for compose)",
    ),
    (
        PORT_RANGE,
        "a `HOST:PORT` address has no port, or a port outside 1 to 65535",
    ),
    (
        IMPORT_OUTSIDE,
        "an import reaches outside the spec's directory tree",
    ),
    (
        NOT_REGULAR_FILE,
        "an import or the spec is not a regular file",
    ),
    (
        SOURCE_TOO_LARGE,
        "an imported file or the spec is too large",
    ),
    (TOO_DEEP, "the spec nests too deeply"),
    (EVAL_MEMORY, "evaluating the spec used too much memory"),
    (EVAL_TIME, "evaluating the spec took too long"),
    (NOT_UTF8, "the spec or an imported file is not UTF-8 text"),
    (DUPLICATE_KEY, "a JSON object names the same key twice"),
    (NUMBER_RANGE, "a number is out of range"),
    (ENGINE_FAILURE, "the Nickel engine failed inside"),
    (
        TAG_UPPERCASE,
        "a tag has upper-case letters, which Headscale refuses",
    ),
    (
        CLOUD_CHANNEL,
        "a channel carries messages through a third party's cloud",
    ),
    (
        CLOUD_REASON,
        "a channel's `cloud_reason` is not a reason, or acknowledges nothing",
    ),
    (
        HOMESERVER_UNREACHABLE,
        "the homeserver should listen on the tailnet, but its host has no `tailnet_ip`",
    ),
    (
        MATRIX_NO_TOKEN,
        "the Matrix channel has no `token` for the AI's account",
    ),
];
