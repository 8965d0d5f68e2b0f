use super::*;
use crate::model::{DeviceKind, DeviceOs};
use std::time::UNIX_EPOCH;

#[test]
fn plain_http_is_refused_except_to_loopback() {
    let key = || ApiKey::new("k", "env:K");
    assert!(Client::new("http://127.0.0.1:8080", key()).is_ok());
    assert!(Client::new("http://[::1]:8080/", key()).is_ok());
    assert!(Client::new("http://localhost:8080", key()).is_ok());
    assert!(Client::new("https://hs.example.org", key()).is_ok());
    let refused = Client::new("http://hs.example.org", key()).unwrap_err();
    assert!(matches!(refused, Error::InsecureUrl { .. }), "{refused}");
    assert!(
        Client::builder("http://hs.example.org:8080", key())
            .resolve_to(IpAddr::from([127, 0, 0, 1]))
            .build()
            .is_ok()
    );
    assert!(matches!(
        Client::new("ftp://hs.example.org", key()),
        Err(Error::BadUrl { .. })
    ));
    assert!(matches!(
        Client::new("not a url", key()),
        Err(Error::BadUrl { .. })
    ));
    assert_eq!(
        Client::new("http://127.0.0.1:8080/", key()).unwrap().url(),
        "http://127.0.0.1:8080"
    );
}

#[test]
fn query_values_are_percent_encoded() {
    assert_eq!(query_escape("alice@example.com"), "alice%40example.com");
    assert_eq!(query_escape("a b&c"), "a%20b%26c");
}

#[test]
fn a_key_for_a_device_has_its_user_tags_and_an_expiration() {
    let mut device = Device {
        name: "a".to_owned(),
        user: "alice".to_owned(),
        kind: DeviceKind::Laptop,
        os: DeviceOs::Linux,
        tags: vec!["tag:b".to_owned(), "tag:a".to_owned()],
        tailnet_ip: None,
        ephemeral: false,
        reusable: false,
    };
    device.ephemeral = true;
    let key = NewPreAuthKey::for_device(&device, 3, UNIX_EPOCH + Duration::from_secs(86_400));
    assert_eq!(
        key.body(),
        serde_json::json!({
            "user": "3",
            "reusable": false,
            "ephemeral": true,
            "expiration": "1970-01-02T00:00:00Z",
            "aclTags": ["tag:a", "tag:b"],
        })
    );
}
