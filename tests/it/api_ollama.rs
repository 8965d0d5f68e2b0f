//! The Ollama client ([`privai::api::ollama`]) against the stand-in Ollama
//! on 127.0.0.1 ([`crate::standin::ollama`]): reads, pulls with progress,
//! Ollama's error shapes (HTTP 200 then an error line; 404/500 with a JSON
//! body; nothing listening), a broken pull resuming where it stopped, and a
//! tag that moved upstream showing as drift against `privai.lock`.

use crate::standin::ollama::{Config, Model, Progress, Standin};
use privai::api::ollama::{Client, OllamaError, PullProgress, RESUMING};
use privai::lockfile::{self, LockFile, TagMoved};
use serde_json::json;
use std::time::Duration;

const MIB: u64 = 1024 * 1024;

/// A stand-in whose registry has `llama3.2:3b` (pulled already) and
/// `qwen2.5:32b` (not pulled), 4 MiB each.
fn standin() -> Standin {
    Standin::start(Config {
        local: vec!["llama3.2:3b".into()],
        ..Config::with_registry(vec![
            Model::new("llama3.2:3b", 4 * MIB),
            Model::new("qwen2.5:32b", 4 * MIB),
        ])
    })
}

/// A client of `standin` that resumes quickly.
fn client(standin: &Standin) -> Client {
    Client::new(&standin.url)
        .unwrap()
        .with_pull_retries(3, Duration::from_millis(10))
}

/// Pulls `name`, collecting every progress event.
fn pull(
    client: &Client,
    name: &str,
) -> (
    Result<privai::api::ollama::PullOutcome, OllamaError>,
    Vec<PullProgress>,
) {
    let mut events = Vec::new();
    let outcome = client.pull(name, &mut |p| events.push(p.clone()));
    (outcome, events)
}

/// A URL nothing listens on.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[test]
fn version_tags_and_show_read_what_ollama_has() {
    let standin = standin();
    let client = client(&standin);
    assert_eq!(client.version().unwrap(), "0.33.0");

    let tags = client.tags().unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].name, "llama3.2:3b");
    assert_eq!(tags[0].model, "llama3.2:3b");
    assert_eq!(tags[0].size, 4 * MIB);
    let hex = standin.local_digest("llama3.2:3b").unwrap();
    assert_eq!(tags[0].digest, hex);
    assert_eq!(
        client.manifest_digest("llama3.2:3b").unwrap(),
        Some(format!("sha256:{hex}"))
    );
    assert_eq!(client.manifest_digest("qwen2.5:32b").unwrap(), None);

    let facts = client.show("llama3.2:3b").unwrap();
    assert_eq!(facts.architecture, "llama");
    assert_eq!(facts.block_count, Some(32));
    assert_eq!(facts.head_count_kv, Some(8));
    assert_eq!(facts.head_dim(), Some(128));
    assert_eq!(facts.context_length, Some(131_072));
    assert_eq!(facts.parameter_count, Some(8_030_261_248));
    assert_eq!(facts.quantization.as_deref(), Some("Q4_K_M"));
    assert!(standin.writes().is_empty(), "reading writes nothing");
}

#[test]
fn show_reads_key_length_and_sliding_window_from_model_info() {
    let standin = Standin::start(Config {
        local: vec!["gemma3:27b".into()],
        ..Config::with_registry(vec![Model::new("gemma3:27b", MIB).info(json!({
            "general.architecture": "gemma3",
            "gemma3.block_count": 62,
            "gemma3.attention.head_count": 32,
            "gemma3.attention.head_count_kv": 16,
            "gemma3.attention.key_length": 128,
            "gemma3.attention.value_length": 128,
            "gemma3.embedding_length": 5376,
            "gemma3.context_length": 131_072,
            "gemma3.attention.sliding_window": 1024
        }))])
    });
    let facts = client(&standin).show("gemma3:27b").unwrap();
    let estimate = facts.estimate_facts(17_396_936_941).unwrap();
    assert_eq!(
        (estimate.layers, estimate.kv_heads, estimate.head_dim),
        (62, 16, 128)
    );
    let window = estimate.sliding_window.unwrap();
    assert_eq!((window.window, window.global_every), (1024, 6));
}

#[test]
fn show_of_a_model_ollama_lacks_says_to_pull_it() {
    let standin = standin();
    let error = client(&standin).show("qwen2.5:32b").unwrap_err();
    assert!(
        matches!(error, OllamaError::ModelNotFound { ref model, .. } if model == "qwen2.5:32b")
    );
    assert_eq!(
        error.to_string(),
        format!(
            "model `qwen2.5:32b` is not in Ollama at {}: pull it (`privai apply` pulls every model the spec names, or `ollama pull qwen2.5:32b`)",
            standin.url
        )
    );
}

#[test]
fn a_pull_reports_every_step_in_order_and_ends_with_success() {
    let standin = standin();
    let client = client(&standin);
    let (outcome, events) = pull(&client, "qwen2.5:32b");
    let outcome = outcome.unwrap();
    assert_eq!(outcome.model, "qwen2.5:32b");
    assert_eq!(outcome.attempts, 1);
    assert!(outcome.resumed_after.is_empty());

    let statuses: Vec<&str> = events.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(statuses.first(), Some(&"pulling manifest"));
    assert_eq!(
        statuses[statuses.len() - 3..],
        ["verifying sha256 digest", "writing manifest", "success"]
    );
    // The weights and the three small blobs, each from nothing to its total,
    // `completed` never going back.
    let layers: Vec<&PullProgress> = events.iter().filter(|e| e.digest.is_some()).collect();
    let mut digests: Vec<&str> = layers.iter().filter_map(|e| e.digest.as_deref()).collect();
    digests.dedup();
    assert_eq!(digests.len(), 4, "{digests:?}");
    for digest in &digests {
        let lines: Vec<&&PullProgress> = layers
            .iter()
            .filter(|e| e.digest.as_deref() == Some(*digest))
            .collect();
        let hex = digest.strip_prefix("sha256:").unwrap();
        assert!(
            lines
                .iter()
                .all(|e| e.status == format!("pulling {}", &hex[..12]))
        );
        assert_eq!(lines[0].completed, None, "Ollama omits a zero `completed`");
        let completed: Vec<u64> = lines.iter().map(|e| e.completed.unwrap_or(0)).collect();
        assert!(completed.is_sorted(), "{completed:?}");
        assert_eq!(completed.last().copied(), lines[0].total);
    }
    let total: u64 = digests
        .iter()
        .map(|d| {
            layers
                .iter()
                .find(|e| e.digest.as_deref() == Some(*d))
                .unwrap()
                .total
                .unwrap()
        })
        .sum();
    assert_eq!(total, 4 * MIB, "the blobs add up to the model's size");
    assert!(events.iter().all(|e| e.attempt == 1));

    assert_eq!(
        client.manifest_digest("qwen2.5:32b").unwrap(),
        Some(format!(
            "sha256:{}",
            standin.registry_digest("qwen2.5:32b").unwrap()
        ))
    );
    let writes = standin.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].path, "/api/pull");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&writes[0].body).unwrap(),
        json!({"model": "qwen2.5:32b", "stream": true})
    );
}

#[test]
fn pulling_a_model_ollama_has_sends_each_blob_once_complete() {
    let standin = standin();
    let (outcome, events) = pull(&client(&standin), "llama3.2:3b");
    outcome.unwrap();
    let layers: Vec<&PullProgress> = events.iter().filter(|e| e.digest.is_some()).collect();
    assert_eq!(layers.len(), 4);
    assert!(layers.iter().all(|e| e.completed == e.total));
}

#[test]
fn names_are_normalised_before_they_are_sent() {
    let standin = standin();
    let (outcome, _) = pull(&client(&standin), "registry.ollama.ai/library/qwen2.5:32b");
    assert_eq!(outcome.unwrap().model, "qwen2.5:32b");
    let body: serde_json::Value = serde_json::from_str(&standin.writes()[0].body).unwrap();
    assert_eq!(body["model"], "qwen2.5:32b");
}

#[test]
fn an_unknown_tag_is_an_error_naming_the_tag_though_ollama_answers_200() {
    let standin = standin();
    let (outcome, events) = pull(&client(&standin), "qwen2.5:33b");
    let error = outcome.unwrap_err();
    assert!(matches!(error, OllamaError::NoSuchTag { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "`qwen2.5:33b` does not exist in the Ollama registry (Ollama said: pull model manifest: file does not exist): check the model name and tag in the spec (https://ollama.com/library lists them)"
    );
    let statuses: Vec<&str> = events.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(statuses, ["pulling manifest"]);
    assert_eq!(standin.writes().len(), 1, "an error line is not retried");
}

#[test]
fn an_invalid_name_is_refused_before_any_request() {
    let standin = standin();
    let (outcome, events) = pull(&client(&standin), "qwen 2.5");
    assert!(matches!(
        outcome.unwrap_err(),
        OllamaError::InvalidName { .. }
    ));
    assert!(events.is_empty());
    assert!(standin.log().is_empty());
}

#[test]
fn http_errors_carry_ollamas_message_and_what_to_do() {
    let standin = standin();
    let client = client(&standin);

    standin.fail_next(
        "GET",
        "/api/tags",
        500,
        "open /root/.ollama/models/manifests: permission denied",
    );
    let error = client.tags().unwrap_err();
    assert!(
        matches!(error, OllamaError::Http { status: 500, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "Ollama at {} answered `GET /api/tags` with HTTP 500: open /root/.ollama/models/manifests: permission denied; see Ollama's log (`/usr/local/var/log/privai/ollama.log` on macOS, `journalctl -u privai-ollama` on Linux)",
            standin.url
        )
    );

    standin.fail_next(
        "GET",
        "/api/version",
        503,
        "server busy, please try again.  maximum pending requests exceeded",
    );
    let error = client.version().unwrap_err().to_string();
    assert!(error.contains("HTTP 503: server busy"), "{error}");
    assert!(
        error.contains("wait for running requests to finish and retry"),
        "{error}"
    );

    standin.fail_next("POST", "/api/pull", 500, "something went wrong");
    let (outcome, _) = pull(&client, "qwen2.5:32b");
    let error = outcome.unwrap_err();
    assert!(matches!(error, OllamaError::PullFailed { .. }), "{error:?}");
    assert!(error.to_string().starts_with(
        "pulling `qwen2.5:32b` failed: something went wrong; run `privai apply` again"
    ));

    standin.fail_next(
        "DELETE",
        "/api/delete",
        404,
        "model 'qwen2.5:32b' not found",
    );
    assert!(matches!(
        client.delete("qwen2.5:32b").unwrap_err(),
        OllamaError::ModelNotFound { .. }
    ));
}

#[test]
fn a_server_that_is_not_ollama_is_told_apart() {
    let standin = standin();
    let client = Client::new(&format!("{}/not-ollama", standin.url)).unwrap();
    let error = client.version().unwrap_err();
    assert!(
        matches!(error, OllamaError::Http { status: 404, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("this URL does not look like Ollama")
    );
}

#[test]
fn nothing_listening_says_how_to_start_ollama() {
    let url = closed_url();
    let client = Client::new(&url).unwrap();
    let error = client.version().unwrap_err();
    assert!(matches!(error, OllamaError::NotRunning { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "Ollama is not running at {url}: start it (`ollama serve`, or the service privai installs: `launchctl kickstart gui/$(id -u)/net.privai.ollama` on macOS, `sudo systemctl start privai-ollama` on Linux)"
        )
    );
    let (outcome, _) = pull(&client, "llama3.2");
    assert!(
        matches!(outcome.unwrap_err(), OllamaError::NotRunning { .. }),
        "a first pull request is not retried"
    );
}

#[test]
fn a_broken_pull_resumes_where_it_stopped_and_completes() {
    let standin = standin();
    let client = client(&standin);
    // Past `pulling manifest` and a few lines into the weights.
    standin.break_pull_after(600);
    let (outcome, events) = pull(&client, "qwen2.5:32b");
    let outcome = outcome.unwrap();
    assert_eq!(outcome.attempts, 2);
    assert_eq!(outcome.resumed_after.len(), 1);
    assert!(
        outcome.resumed_after[0].contains("connection"),
        "{:?}",
        outcome.resumed_after
    );

    let resume = events.iter().position(PullProgress::is_resuming).unwrap();
    assert_eq!(events[resume].status, RESUMING);
    assert_eq!(events[resume].attempt, 2);
    assert_eq!(events.iter().filter(|e| e.is_resuming()).count(), 1);
    assert!(events[..resume].iter().all(|e| e.attempt == 1));
    assert!(events[resume..].iter().all(|e| e.attempt == 2));

    let weights = events[..resume]
        .iter()
        .rev()
        .find_map(|e| e.digest.clone())
        .expect("the first attempt got to the weights");
    let reached = events[..resume]
        .iter()
        .filter(|e| e.digest.as_ref() == Some(&weights))
        .filter_map(|e| e.completed)
        .max()
        .expect("the first attempt downloaded something");
    let first_again = events[resume..]
        .iter()
        .find(|e| e.digest.as_ref() == Some(&weights))
        .unwrap();
    assert!(
        first_again.completed.unwrap_or(0) >= reached,
        "the second pull starts at {:?}, the first had reached {reached}",
        first_again.completed
    );
    assert!(
        reached < first_again.total.unwrap(),
        "the break fell mid-download"
    );
    assert_eq!(events.last().unwrap().status, "success");
    assert_eq!(standin.writes().len(), 2, "one pull request per attempt");
    assert!(client.manifest_digest("qwen2.5:32b").unwrap().is_some());
}

#[test]
fn a_pull_that_keeps_breaking_fails_after_the_retries() {
    let standin = standin();
    let client = Client::new(&standin.url)
        .unwrap()
        .with_pull_retries(2, Duration::from_millis(5));
    standin.break_pulls_after(10, 5);
    let (outcome, events) = pull(&client, "qwen2.5:32b");
    let error = outcome.unwrap_err();
    assert!(
        matches!(error, OllamaError::PullInterrupted { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("Ollama keeps the partial download and resumes it")
    );
    assert_eq!(events.iter().filter(|e| e.is_resuming()).count(), 2);
    assert_eq!(standin.writes().len(), 3);
}

#[test]
fn a_silent_pull_stream_counts_as_broken() {
    let standin = Standin::start(Config {
        line_delay: Duration::from_secs(2),
        ..Config::with_registry(vec![Model::new("qwen2.5:32b", MIB)])
    });
    let client = Client::new(&standin.url)
        .unwrap()
        .with_pull_read_timeout(Duration::from_millis(300))
        .with_pull_retries(0, Duration::ZERO);
    let (outcome, events) = pull(&client, "qwen2.5:32b");
    let error = outcome.unwrap_err();
    assert!(
        matches!(error, OllamaError::PullInterrupted { attempts: 1, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("Ollama sent nothing for 300ms"),
        "{error}"
    );
    assert_eq!(
        events.len(),
        1,
        "only `pulling manifest` arrived: {events:?}"
    );
}

#[test]
fn a_pull_longer_than_the_silence_limit_is_never_cut_while_lines_arrive() {
    // About 20 lines 100 ms apart: the pull takes 2 s, four times the
    // 500 ms a stream may stay silent, and is never silent that long.
    let standin = Standin::start(Config {
        progress: Progress::Lines(8),
        line_delay: Duration::from_millis(100),
        ..Config::with_registry(vec![Model::new("qwen2.5:32b", MIB)])
    });
    let client = Client::new(&standin.url)
        .unwrap()
        .with_pull_read_timeout(Duration::from_millis(500))
        .with_pull_retries(0, Duration::ZERO);
    let started = std::time::Instant::now();
    let (outcome, events) = pull(&client, "qwen2.5:32b");
    let outcome = outcome.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        started.elapsed() > Duration::from_millis(1500),
        "{events:?}"
    );
    assert_eq!(outcome.attempts, 1);
    assert_eq!(events.last().unwrap().status, "success");
}

#[test]
fn the_pull_stream_can_carry_as_many_bytes_as_the_model() {
    let standin = Standin::start(Config {
        progress: Progress::FollowSize,
        ..Config::with_registry(vec![Model::new("llama3.2:3b", 2 * MIB)])
    });
    let mut lines = 0_u64;
    let mut bytes = 0_u64;
    client(&standin)
        .pull("llama3.2:3b", &mut |p| {
            lines += 1;
            // A line is about this long on the wire.
            bytes += 60 + p.status.len() as u64 + p.digest.as_ref().map_or(0, |d| d.len() as u64);
        })
        .unwrap();
    assert!(lines > 2 * MIB / 200, "{lines} lines");
    assert!(bytes > MIB && bytes < 4 * MIB, "{bytes} bytes");
}

#[test]
fn one_token_loads_the_model_and_a_slow_load_times_out() {
    let standin = Standin::start(Config {
        local: vec!["llama3.2:3b".into()],
        generate_delay: Duration::from_millis(500),
        ..Config::with_registry(vec![Model::new("llama3.2:3b", MIB)])
    });
    let client = client(&standin);
    client
        .generate_one_token("llama3.2:3b", Duration::from_secs(10))
        .unwrap();
    let request = standin.log().pop().unwrap();
    assert_eq!(request.path, "/api/generate");
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["stream"], false);
    assert_eq!(body["options"]["num_predict"], 1);
    assert!(!request.is_write());

    let error = client
        .generate_one_token("llama3.2:3b", Duration::from_millis(100))
        .unwrap_err();
    assert!(matches!(error, OllamaError::Generate { .. }), "{error:?}");
    assert!(
        error.to_string().contains("no answer within 100ms"),
        "{error}"
    );

    let error = client
        .generate_one_token("qwen2.5:32b", Duration::from_secs(10))
        .unwrap_err();
    assert!(
        matches!(error, OllamaError::ModelNotFound { .. }),
        "{error:?}"
    );
}

#[test]
fn delete_removes_a_model_once() {
    let standin = standin();
    let client = client(&standin);
    client.delete("llama3.2:3b").unwrap();
    assert!(client.tags().unwrap().is_empty());
    assert!(matches!(
        client.delete("llama3.2:3b").unwrap_err(),
        OllamaError::ModelNotFound { .. }
    ));
    assert_eq!(standin.writes().len(), 2);
}

#[test]
fn a_tag_moved_upstream_shows_as_drift_against_the_lock_file() {
    let standin = standin();
    let client = client(&standin);
    pull(&client, "qwen2.5:32b").0.unwrap();

    // Lock what is there, as apply would.
    let dir = tempfile::tempdir().unwrap();
    let path = LockFile::path_for(&dir.path().join("home.ncl"));
    let mut lock = LockFile::new();
    for model in client.tags().unwrap() {
        lock.set(&model.name, &model.manifest_digest());
    }
    lock.write(&path).unwrap();
    let lock = LockFile::read(&path).unwrap().unwrap();
    let locked = lock.digest("qwen2.5:32b").unwrap().to_owned();
    assert!(lockfile::drift(&lock, &client.tags().unwrap()).is_empty());

    // Upstream moves the tag; what Ollama has is still the locked version.
    let moved = "4f5e0c0dd3a76e5e6a4a1ef2b4e3b2f7c1e4c7f4d0f0a0b9b8c7d6e5f4a3b2c1";
    standin.set_digest("qwen2.5:32b", moved);
    assert!(lockfile::drift(&lock, &client.tags().unwrap()).is_empty());

    // Pulling again fetches the new weights and drops the old ones.
    let (outcome, events) = pull(&client, "qwen2.5:32b");
    outcome.unwrap();
    assert!(events.iter().any(|e| e.status.starts_with("removing")));
    assert_eq!(
        lockfile::drift(&lock, &client.tags().unwrap()),
        [TagMoved {
            name: "qwen2.5:32b".into(),
            locked,
            found: format!("sha256:{moved}"),
        }]
    );
}

#[test]
fn a_second_look_makes_no_api_writes() {
    let standin = standin();
    let client = client(&standin);
    pull(&client, "qwen2.5:32b").0.unwrap();
    standin.clear_log();
    for name in ["llama3.2:3b", "qwen2.5:32b"] {
        client.manifest_digest(name).unwrap();
        client.show(name).unwrap();
    }
    client.version().unwrap();
    assert!(standin.writes().is_empty(), "{:?}", standin.log());
    assert_eq!(standin.log().len(), 5);
}
