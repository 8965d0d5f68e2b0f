//! People, devices and the access policy of the tailnet.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A Headscale user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// User name (`NAME@` in ACLs).
    pub name: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A device that joins the tailnet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Unique name.
    pub name: String,
    /// Owner (a user name).
    pub user: String,
    /// Kind of device.
    pub kind: DeviceKind,
    /// Operating system.
    pub os: DeviceOs,
    /// ACL tags.
    pub tags: Vec<String>,
    /// Pinned tailnet address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tailnet_ip: Option<String>,
    /// Joins with an ephemeral key.
    pub ephemeral: bool,
    /// Gets a reusable pre-auth key rather than a single-use one.
    pub reusable: bool,
}

/// Kind of device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A phone (joins through the app).
    Phone,
    /// A laptop.
    Laptop,
    /// A desktop.
    Desktop,
    /// A server.
    Server,
    /// A tablet (joins through the app).
    Tablet,
}

/// Operating system of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceOs {
    /// iOS or iPadOS.
    Ios,
    /// Android.
    Android,
    /// macOS.
    Macos,
    /// Linux.
    Linux,
    /// Windows.
    Windows,
}

/// The access policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acl {
    /// Accept rules.
    pub rules: Vec<AclRule>,
    /// Policy tests.
    pub tests: Vec<AclTest>,
    /// Tag owners, keyed by tag without `tag:`.
    pub tag_owners: BTreeMap<String, Vec<String>>,
    /// Extra named addresses.
    pub hosts: BTreeMap<String, String>,
}

/// One accept rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AclRule {
    /// Always `accept`.
    pub action: AclAction,
    /// Sources.
    pub src: Vec<String>,
    /// Destinations `TARGET:PORTS`.
    pub dst: Vec<String>,
    /// Protocol restriction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<Protocol>,
    /// Why the rule exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The action of a rule; Headscale supports only accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AclAction {
    /// Allow the traffic.
    Accept,
}

/// A protocol a rule is limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
}

/// A policy test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AclTest {
    /// Who the test speaks for.
    pub src: String,
    /// Destinations that must be reachable.
    pub accept: Vec<String>,
    /// Destinations that must not be reachable.
    pub deny: Vec<String>,
}
