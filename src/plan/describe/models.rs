//! Descriptions of the models domain.

use super::{Description, ModelState, Object, Reason, State};
use crate::plan::ModelAction;

/// A model pulled (its size, where from, its pinned digest) or removed.
pub(super) fn model(action: &ModelAction) -> Description {
    match action {
        ModelAction::Pull {
            host,
            name,
            download_bytes,
            locked_digest,
            source,
        } => {
            let mut description = Description::new(
                action.address(),
                action.change(),
                Object::Model,
                host,
                name,
                Reason::ModelAbsent,
            );
            description.after = Some(State::Model(ModelState {
                download_bytes: *download_bytes,
                locked_digest: locked_digest.clone(),
                source: source.clone(),
            }));
            let mut size = download_bytes.map_or_else(
                || "download size unknown".to_owned(),
                |bytes| format!("{} download", crate::sizing::gib(bytes)),
            );
            if let Some(from) = source.describe() {
                size = format!("{size}, {from}");
            }
            description.summary = Some(size);
            if let Some(digest) = locked_digest {
                description.field("pinned by privai.lock", digest.clone());
            }
            description
        }
        ModelAction::Remove { host, name } => {
            let mut description = Description::new(
                action.address(),
                action.change(),
                Object::Model,
                host,
                name,
                Reason::PulledByPrivaiAndNoLongerInSpec,
            );
            description.before = Some(State::Present {});
            description.summary = Some("pulled by privai, no longer in the spec".to_owned());
            description
        }
    }
}
