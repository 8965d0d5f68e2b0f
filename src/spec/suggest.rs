//! "Did you mean" suggestions for misspelt names.

/// The candidate closest to `word`, if one is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (c, strsim::jaro_winkler(word, c)))
        .filter(|(_, score)| *score >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c.as_str())
}

#[cfg(test)]
mod tests {
    use super::closest;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn suggests_the_nearest_name_for_a_typo() {
        let options = names(&["ram_gb", "roles", "tailnet_ip"]);
        assert_eq!(closest("ram_gbb", &options), Some("ram_gb"));
        assert_eq!(closest("tailnet_pi", &options), Some("tailnet_ip"));
    }

    #[test]
    fn suggests_nothing_for_an_unrelated_word() {
        assert_eq!(closest("zzz", &names(&["ram_gb", "roles"])), None);
    }
}
