//! One file per projection, holding its state and the position that state
//! reflects. It is written to a temporary file, synced and renamed into place, so a
//! crash leaves either the old snapshot or the new one, never a mix.

use std::fs;
use std::path::{Path, PathBuf};

use ercs_eventlog::Position;
use serde::{Deserialize, Serialize};

use crate::Projection;

#[derive(Serialize, Deserialize)]
struct Snapshot<S> {
    projection: String,
    version: u32,
    position: Position,
    /// The id of the event at `position`: the log the state was folded from
    /// is the log being followed only if it holds this event there. Older
    /// snapshots lack it and are not trusted.
    #[serde(default)]
    event: Option<uuid::Uuid>,
    state: S,
}

/// A saved view, the position it reflects and the id of the event there.
pub(crate) struct Loaded<P> {
    pub view: P,
    pub position: Position,
    pub event: uuid::Uuid,
}

pub(crate) fn path_for<P: Projection>(dir: &Path) -> PathBuf {
    dir.join(format!("{}.snapshot.json", P::NAME))
}

/// The saved view, or `None` (after saying why) when there is none to trust.
/// Whether it is of the log being followed is for the caller to check.
pub(crate) fn load<P: Projection>(dir: &Path) -> Option<Loaded<P>> {
    let path = path_for::<P>(dir);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot read the snapshot; rebuilding from the log");
            return None;
        }
    };
    match serde_json::from_slice::<Snapshot<P>>(&bytes) {
        Ok(Snapshot {
            projection,
            version,
            position,
            event: Some(event),
            state,
        }) if projection == P::NAME && version == P::VERSION => Some(Loaded {
            view: state,
            position,
            event,
        }),
        Ok(snapshot) if snapshot.projection == P::NAME && snapshot.version == P::VERSION => {
            tracing::info!(
                path = %path.display(),
                "the snapshot does not name the event it was folded to; rebuilding from the log"
            );
            None
        }
        Ok(snapshot) => {
            tracing::info!(
                path = %path.display(), found = snapshot.version, current = P::VERSION,
                "the snapshot is of another version of the projection; rebuilding from the log"
            );
            None
        }
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "the snapshot is damaged; rebuilding from the log");
            None
        }
    }
}

/// Serializes the view (a published copy, so nobody waits for it).
pub(crate) fn encode<P: Projection>(
    state: &P,
    position: Position,
    event: Option<uuid::Uuid>,
) -> serde_json::Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Borrowed<'a, S> {
        projection: &'a str,
        version: u32,
        position: Position,
        event: Option<uuid::Uuid>,
        state: &'a S,
    }
    serde_json::to_vec(&Borrowed {
        projection: P::NAME,
        version: P::VERSION,
        position,
        event,
        state,
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use ercs_eventlog::FileAccess;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_snapshot_and_its_new_directory_are_readable_by_their_owner_alone() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("views/one_network.snapshot.json");
        FileAccess::Owner.replace_file(&path, b"{}").unwrap();
        // Rewritten: the replacement is as private as the first.
        FileAccess::Owner.replace_file(&path, b"{\"v\":2}").unwrap();
        assert_eq!(
            (mode(&root.path().join("views")), mode(&path)),
            (0o700, 0o600)
        );
        assert_eq!(fs::read(&path).unwrap(), b"{\"v\":2}");
    }

    #[test]
    fn a_group_readable_snapshot_lets_the_group_read_it() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("one_network.snapshot.json");
        FileAccess::Group.replace_file(&path, b"{}").unwrap();
        assert_eq!(mode(&path), 0o640);
    }
}
