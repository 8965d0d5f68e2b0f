//! Pure: the end of validity (`notAfter`) of an X.509 certificate in PEM,
//! read with a minimal DER walk (RFC 5280 §4.1): Certificate → tbsCertificate
//! → [version] serialNumber signature issuer **validity** → notAfter, a
//! UTCTime (`YYMMDDHHMMSSZ`, years 1950-2049) or GeneralizedTime
//! (`YYYYMMDDHHMMSSZ`).

use std::time::SystemTime;

/// `notAfter` of the first certificate in `pem`.
pub fn not_after(pem: &str) -> Result<SystemTime, String> {
    let der = first_certificate(pem)?;
    let (cert, _) = tlv(&der, 0x30).ok_or("not a certificate (no outer SEQUENCE)")?;
    let (mut tbs, _) = tlv(cert, 0x30).ok_or("no tbsCertificate")?;
    if tbs.first() == Some(&0xa0) {
        tbs = skip(tbs).ok_or("a malformed version")?;
    }
    for what in ["serialNumber", "signature", "issuer"] {
        tbs = skip(tbs).ok_or_else(|| format!("a malformed {what}"))?;
    }
    let (validity, _) = tlv(tbs, 0x30).ok_or("no validity")?;
    let validity = skip(validity).ok_or("a malformed notBefore")?;
    let tag = *validity.first().ok_or("no notAfter")?;
    let (time, _) = tlv(validity, tag).ok_or("a malformed notAfter")?;
    let text = std::str::from_utf8(time).map_err(|_| "notAfter is not text")?;
    let full = match (tag, text.len()) {
        (0x17, 13) => {
            let yy: u32 = text[..2].parse().map_err(|_| "a malformed UTCTime")?;
            format!("{}{text}", if yy >= 50 { "19" } else { "20" })
        }
        (0x18, 15) => text.to_owned(),
        _ => return Err(format!("an unsupported time in notAfter: `{text}`")),
    };
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &full[..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    );
    humantime::parse_rfc3339(&rfc).map_err(|e| format!("notAfter `{text}`: {e}"))
}

/// The DER bytes of the first `CERTIFICATE` block.
fn first_certificate(pem: &str) -> Result<Vec<u8>, String> {
    let begin = "-----BEGIN CERTIFICATE-----";
    let start = pem.find(begin).ok_or("no `BEGIN CERTIFICATE` block")? + begin.len();
    let end = pem[start..]
        .find("-----END CERTIFICATE-----")
        .ok_or("no `END CERTIFICATE` line")?;
    base64(&pem[start..start + end]).ok_or_else(|| "the certificate is not base64".to_owned())
}

/// Standard base64, whitespace ignored.
fn base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The content of the TLV at the start of `der` if its tag is `tag`, and
/// what follows it.
fn tlv(der: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *der.first()? != tag {
        return None;
    }
    let first = *der.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in der.get(2..2 + n)? {
            len = (len << 8) | usize::from(*b);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((der.get(header..end)?, der.get(end..)?))
}

/// `der` after its first TLV, whatever its tag.
fn skip(der: &[u8]) -> Option<&[u8]> {
    tlv(der, *der.first()?).map(|(_, rest)| rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_until(year: i32, month: u8, day: u8) -> String {
        let mut params = rcgen::CertificateParams::new(vec!["headscale.home.arpa".into()]).unwrap();
        params.not_after = rcgen::date_time_ymd(year, month, day);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn reads_not_after_of_a_utctime_and_a_generalizedtime_certificate() {
        // rcgen writes UTCTime before 2050 and GeneralizedTime from 2050 on
        // (RFC 5280 §4.1.2.5).
        assert_eq!(
            not_after(&cert_until(2027, 1, 2)).unwrap(),
            humantime::parse_rfc3339("2027-01-02T00:00:00Z").unwrap()
        );
        assert_eq!(
            not_after(&cert_until(2051, 6, 30)).unwrap(),
            humantime::parse_rfc3339("2051-06-30T00:00:00Z").unwrap()
        );
    }

    #[test]
    fn refuses_what_is_not_a_certificate_with_a_reason() {
        assert!(
            not_after("hello")
                .unwrap_err()
                .contains("BEGIN CERTIFICATE")
        );
        let broken = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert!(not_after(broken).is_err());
    }
}
