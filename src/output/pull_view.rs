//! How a model pull shows its progress: a progress bar per model on a
//! terminal ([`PullDisplay::Bar`]), or a line at each quarter of each layer
//! otherwise ([`PullDisplay::Lines`]: logs, CI, pipes), except for the
//! small layers (template, licence, parameters) under [`QUIET_BELOW`].
//!
//! Ollama reports progress per layer (`pulling <digest>`, with `total` and
//! `completed` bytes); the bar sums the layers seen so far, so its length
//! grows as Ollama announces layers.

use crate::api::ollama::PullProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::io::Write;

/// Layers smaller than this get no progress lines: they take no time.
pub const QUIET_BELOW: u64 = 16 << 20;

/// Where and how progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullDisplay {
    /// Plain lines on the apply output.
    Lines,
    /// A progress bar on standard error (a terminal).
    Bar,
}

impl PullDisplay {
    /// A bar when the apply's output (standard output) and standard error,
    /// where the bar is drawn, are a terminal; lines otherwise, so that
    /// `privai apply > apply.log` logs each pull.
    pub fn for_terminal() -> Self {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
            Self::Bar
        } else {
            Self::Lines
        }
    }
}

/// The progress of one model's pull.
pub struct PullView {
    model: String,
    bar: Option<ProgressBar>,
    /// Each layer's (total, completed) bytes.
    layers: BTreeMap<String, (u64, u64)>,
    /// The last quarter printed of each layer (lines).
    quarters: BTreeMap<String, u64>,
}

impl PullView {
    /// The view of pulling `model`, shown as `display` says.
    pub fn new(model: &str, display: PullDisplay) -> Self {
        let bar =
            (display == PullDisplay::Bar).then(|| Self::bar(model, ProgressDrawTarget::stderr()));
        Self {
            model: model.to_owned(),
            bar,
            layers: BTreeMap::new(),
            quarters: BTreeMap::new(),
        }
    }

    /// A bar drawn to `target`.
    fn bar(model: &str, target: ProgressDrawTarget) -> ProgressBar {
        let style = ProgressStyle::with_template(
            "    {prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta} {msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> ");
        ProgressBar::with_draw_target(Some(0), target)
            .with_style(style)
            .with_prefix(model.to_owned())
    }

    /// A view whose bar is drawn nowhere, to test what it counts.
    #[cfg(test)]
    fn hidden(model: &str) -> Self {
        Self {
            bar: Some(Self::bar(model, ProgressDrawTarget::hidden())),
            ..Self::new(model, PullDisplay::Lines)
        }
    }

    /// Shows one progress event; lines go to `out`.
    pub fn on(&mut self, progress: &PullProgress, out: &mut dyn Write) {
        let model = &self.model;
        if progress.is_resuming() {
            let why = progress.detail.as_deref().unwrap_or("the stream broke");
            match &self.bar {
                Some(bar) => bar.set_message(format!("resuming ({why})")),
                None => {
                    let _ = writeln!(out, "    {model}: resuming ({why})");
                }
            }
            return;
        }
        let (Some(total), Some(digest)) = (progress.total, &progress.digest) else {
            match &self.bar {
                Some(bar) => bar.set_message(progress.status.clone()),
                None => {
                    let _ = writeln!(out, "    {model}: {}", progress.status);
                }
            }
            return;
        };
        if total == 0 {
            return;
        }
        let completed = progress.completed.unwrap_or(0).min(total);
        self.layers.insert(digest.clone(), (total, completed));
        match &self.bar {
            Some(bar) => {
                let (total, done) = self.totals();
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(String::new());
            }
            None if total < QUIET_BELOW => {}
            None => {
                let quarter = completed * 4 / total;
                if self.quarters.get(digest) != Some(&quarter) {
                    self.quarters.insert(digest.clone(), quarter);
                    let _ = writeln!(
                        out,
                        "    {model}: {} {}% of {}",
                        progress.status,
                        completed * 100 / total,
                        crate::sizing::gib(total)
                    );
                }
            }
        }
    }

    /// Bytes of every layer seen, and of them on disk.
    fn totals(&self) -> (u64, u64) {
        self.layers
            .values()
            .fold((0, 0), |(t, d), (total, done)| (t + total, d + done))
    }

    /// Ends the view: the bar is cleared, so that the apply output that
    /// follows (`+ model …: done`) stands alone.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(digest: &str, total: u64, completed: Option<u64>) -> PullProgress {
        PullProgress {
            status: format!("pulling {digest}"),
            digest: Some(format!("sha256:{digest}")),
            total: Some(total),
            completed,
            attempt: 1,
            detail: None,
        }
    }

    fn status(text: &str) -> PullProgress {
        PullProgress {
            status: text.to_owned(),
            digest: None,
            total: None,
            completed: None,
            attempt: 1,
            detail: None,
        }
    }

    #[test]
    fn lines_say_each_status_and_each_quarter_of_each_layer_once() {
        let mut view = PullView::new("llama3.2:3b", PullDisplay::Lines);
        let mut out = Vec::new();
        let gib = 1 << 30;
        for event in [
            status("pulling manifest"),
            layer("aa", 2 * gib, None),
            layer("aa", 2 * gib, Some(gib / 10)),
            layer("aa", 2 * gib, Some(gib)),
            layer("aa", 2 * gib, Some(gib + 1)),
            layer("aa", 2 * gib, Some(2 * gib)),
            status("success"),
        ] {
            view.on(&event, &mut out);
        }
        view.finish();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "    llama3.2:3b: pulling manifest\n\
             \x20   llama3.2:3b: pulling aa 0% of 2.0 GiB\n\
             \x20   llama3.2:3b: pulling aa 50% of 2.0 GiB\n\
             \x20   llama3.2:3b: pulling aa 100% of 2.0 GiB\n\
             \x20   llama3.2:3b: success\n"
        );
    }

    #[test]
    fn small_layers_get_no_lines() {
        let mut view = PullView::new("m", PullDisplay::Lines);
        let mut out = Vec::new();
        view.on(&layer("aa", 4096, Some(4096)), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn the_bar_sums_the_layers_and_prints_no_line() {
        let mut view = PullView::hidden("m");
        let mut out = Vec::new();
        view.on(&layer("aa", 1000, Some(400)), &mut out);
        view.on(&layer("bb", 500, None), &mut out);
        view.on(&layer("aa", 1000, Some(1000)), &mut out);
        let bar = view.bar.clone().unwrap();
        assert_eq!((bar.length(), bar.position()), (Some(1500), 1000));
        view.on(&status("verifying sha256 digest"), &mut out);
        assert_eq!(bar.message(), "verifying sha256 digest");
        assert!(out.is_empty());
        view.finish();
        assert!(bar.is_finished());
    }

    #[test]
    fn a_resumption_is_said() {
        let mut view = PullView::new("m", PullDisplay::Lines);
        let mut out = Vec::new();
        let mut event = status(crate::api::ollama::RESUMING);
        event.detail = Some("the connection closed".into());
        view.on(&event, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "    m: resuming (the connection closed)\n"
        );
    }
}
