use super::*;

#[test]
fn pull_errors_are_told_apart_by_message() {
    assert!(matches!(
        pull_error(
            "x:latest",
            "pull model manifest: file does not exist".into()
        ),
        OllamaError::NoSuchTag { .. }
    ));
    assert!(matches!(
        pull_error("x:latest", "pull model manifest: 412: The model you are attempting to pull requires a newer version of Ollama.".into()),
        OllamaError::NeedsNewerOllama { .. }
    ));
    assert!(matches!(
        pull_error("x:latest", "max retries exceeded: EOF".into()),
        OllamaError::PullFailed { .. }
    ));
}

#[test]
fn a_url_must_be_http() {
    assert!(Client::new("http://127.0.0.1:11434/").is_ok());
    assert_eq!(
        Client::new("http://127.0.0.1:11434/").unwrap().url(),
        DEFAULT_URL
    );
    let error = Client::new("127.0.0.1:11434").unwrap_err().to_string();
    assert!(
        error.contains("give one like `http://127.0.0.1:11434`"),
        "{error}"
    );
    assert!(Client::new("ftp://host").is_err());
}
