//! What a run reports while it goes, as events: started, progress, done,
//! failed, rolling back, the models' check, the outcome. `apply` only
//! emits them; [`crate::output::events::Printer`] renders them for a person
//! or as JSON lines (`privai apply --json`).

use serde::Serialize;
use std::io::{self, Write};

/// One thing that happened during a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    /// The plan about to be carried out (`privai plan --json`'s document).
    Planned {
        /// The plan.
        plan: &'a serde_json::Value,
    },
    /// Step `step` starts.
    Started {
        /// Its index in the plan, from 0.
        step: usize,
        /// What it acts on (`file HOST:PATH`, …).
        address: &'a str,
        /// `create`, `update`, `delete`, …
        change: &'a str,
    },
    /// A line of a long step (a model's pull).
    Progress {
        /// The line, as a person sees it.
        message: &'a str,
    },
    /// Step `step` is done, or was not run because the install is staged.
    Done {
        /// Its index in the plan, from 0.
        step: usize,
        /// What it acted on.
        address: &'a str,
        /// `create`, `update`, `delete`, …
        change: &'a str,
        /// The `+`, `~`, … of the plan.
        #[serde(skip)]
        symbol: &'a str,
        /// Not run: the install is staged under `--root`.
        staged: bool,
    },
    /// The gateway's models answered; which one serves.
    Checked {
        /// What the check found.
        report: &'a str,
    },
    /// `privai.lock` now pins the digests of the spec's models.
    LockWritten {
        /// Where.
        path: &'a str,
    },
    /// A step or a check failed: the run is undone.
    Failed {
        /// What failed.
        failure: &'a str,
    },
    /// Undoing starts.
    RollingBack,
    /// The run committed generation `generation`.
    Applied {
        /// The new current generation.
        generation: u64,
        /// Service actions not run because the install is staged.
        staged_services: usize,
    },
    /// The run was undone.
    RolledBack {
        /// What failed.
        failure: &'a str,
        /// What undoing did, one line each.
        restored: &'a [String],
        /// What a rollback does not undo (models, Headscale users and keys).
        kept: &'a [String],
        /// The generation current again.
        current: Option<u64>,
    },
}

/// Where a run reports its events.
pub trait Progress {
    /// Reports `event`.
    fn event(&mut self, event: &Event) -> io::Result<()>;
    /// Free text of a step in progress (a model's pull view).
    fn text(&mut self) -> &mut dyn Write;
}
