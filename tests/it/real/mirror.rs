//! A private model mirror on 127.0.0.1: Debian's `docker-registry`
//! (Distribution 2.8) behind nginx. Ollama's puller expects a redirect for
//! blob downloads and fails with "no Location header" on a registry that
//! answers 200, so nginx answers blob GETs with a 307 to the registry under
//! another host name (127.0.0.1 rather than localhost) and passes the rest
//! through.

use super::{Process, debian, wait_for};
use crate::tools::free_port;
use std::process::Stdio;
use std::time::Duration;

/// A running mirror.
pub struct Mirror {
    /// `localhost:PORT`: the host part of the models' names on the mirror.
    pub host: String,
    dir: tempfile::TempDir,
    _registry: Process,
    _nginx: Process,
}

impl Mirror {
    /// Starts the registry and nginx on free ports.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (registry_port, nginx_port) = (free_port(), free_port());
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("registry.yml"),
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {d}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{registry_port}\n"
            ),
        )
        .unwrap();
        let registry_log = dir.path().join("registry.log");
        let registry = Process(
            std::process::Command::new(debian("docker-registry", "docker-registry"))
                .arg("serve")
                .arg(dir.path().join("registry.yml"))
                .stdout(std::fs::File::create(&registry_log).unwrap())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        wait_for(
            &format!("http://127.0.0.1:{registry_port}/v2/"),
            Duration::from_secs(30),
            &registry_log,
        );
        std::fs::write(
            dir.path().join("nginx.conf"),
            format!(
                r#"daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  client_max_body_size 0;
  server {{
    listen 127.0.0.1:{nginx_port};
    location ~ ^/v2/.+/blobs/sha256:[0-9a-f]+$ {{
      if ($request_method = GET) {{ return 307 http://127.0.0.1:{registry_port}$request_uri; }}
      proxy_pass http://127.0.0.1:{registry_port};
      proxy_set_header Host $http_host;
    }}
    location / {{
      proxy_pass http://127.0.0.1:{registry_port};
      proxy_set_header Host $http_host;
      proxy_request_buffering off;
    }}
  }}
}}
"#
            ),
        )
        .unwrap();
        let nginx = Process(
            std::process::Command::new(debian("nginx", "nginx-light"))
                .arg("-c")
                .arg(dir.path().join("nginx.conf"))
                .arg("-e")
                .arg(dir.path().join("nginx-error.log"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        wait_for(
            &format!("http://127.0.0.1:{nginx_port}/v2/"),
            Duration::from_secs(30),
            &dir.path().join("nginx-error.log"),
        );
        Self {
            host: format!("localhost:{nginx_port}"),
            dir,
            _registry: registry,
            _nginx: nginx,
        }
    }

    /// Pushes `model` of `ollama` to the mirror as
    /// `HOST/library/MODEL`.
    pub fn push(&self, ollama: &super::ollama::Ollama, model: &str) {
        let name = format!("{}/library/{model}", self.host);
        ollama.cli(&["cp", model, &name]);
        ollama.cli(&["push", "--insecure", &name]);
        ollama.cli(&["rm", &name]);
    }

    /// The digest of `model`'s manifest on the mirror (hex), as the
    /// registry names it (`Docker-Content-Digest`): what Ollama's pull of it
    /// lists.
    pub fn digest(&self, model: &str) -> String {
        let (repo, tag) = model.split_once(':').unwrap_or((model, "latest"));
        let response = reqwest::blocking::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .head(format!(
                "http://{}/v2/library/{repo}/manifests/{tag}",
                self.host
            ))
            .header(
                "Accept",
                "application/vnd.docker.distribution.manifest.v2+json",
            )
            .send()
            .unwrap();
        let digest = response.headers()["docker-content-digest"]
            .to_str()
            .unwrap();
        digest.strip_prefix("sha256:").unwrap().to_owned()
    }

    /// nginx's access log: every request the mirror got.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }
}
