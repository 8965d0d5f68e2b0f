//! `privai explain CODE`: the long explanation of a diagnostic code.

use super::Exit;
use crate::codes::{self, explain};
use std::io::Write;

/// Arguments of `privai explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The code, e.g. `PRV066` (or `66`); without it, list every code.
    pub code: Option<String>,
}

/// Runs `privai explain`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let Some(given) = &args.code else {
        for (code, summary) in codes::ALL {
            writeln!(out, "{code}  {summary}")?;
        }
        return Ok(Exit::Ok);
    };
    let code = normalize(given);
    let Some((code, summary)) = codes::ALL.iter().find(|(c, _)| *c == code) else {
        anyhow::bail!(
            "there is no code `{given}`; codes look like PRV066, and `privai explain` lists them all"
        );
    };
    writeln!(out, "{code}: {summary}\n")?;
    match explain::explanation(code) {
        Some(text) => writeln!(out, "{}", text.trim_end())?,
        None => writeln!(out, "No longer explanation yet.")?,
    }
    Ok(Exit::Ok)
}

/// `prv66`, `66`, `066` → `PRV066`.
fn normalize(given: &str) -> String {
    let upper = given.trim().to_ascii_uppercase();
    let digits = upper.strip_prefix("PRV").unwrap_or(&upper);
    match digits.parse::<u16>() {
        Ok(n) if digits.chars().all(|c| c.is_ascii_digit()) => format!("PRV{n:03}"),
        _ => upper,
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn a_code_may_be_given_without_its_prefix_or_leading_zeros() {
        for given in ["PRV066", "prv066", "66", "066", " PRV66 "] {
            assert_eq!(normalize(given), "PRV066", "{given}");
        }
        assert_eq!(normalize("PRV0"), "PRV000");
        assert_eq!(normalize("nonsense"), "NONSENSE");
    }
}
