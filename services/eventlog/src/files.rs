//! Who may read the files ERCS writes: the event log, its WAL and lock, the
//! service's own stores and the view snapshots hold every resource and every
//! actor's name, so by default only the service's own user can read them.
//!
//! Modes are set when a file or directory is created, never by changing an
//! existing one afterwards: an operator who chose other modes keeps them.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Who may read the data files besides their owner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FileAccess {
    /// Files 0600, directories 0700.
    #[default]
    Owner,
    /// Files 0640, directories 0750: for a backup or monitoring agent in the
    /// service's group.
    Group,
}

impl FileAccess {
    pub const fn file_mode(self) -> u32 {
        match self {
            Self::Owner => 0o600,
            Self::Group => 0o640,
        }
    }

    pub const fn dir_mode(self) -> u32 {
        match self {
            Self::Owner => 0o700,
            Self::Group => 0o750,
        }
    }

    /// Creates `dir` and any missing parent with the directory mode.
    pub fn create_dir_all(self, dir: &Path) -> io::Result<()> {
        DirBuilder::new()
            .recursive(true)
            .mode(self.dir_mode())
            .create(dir)
    }

    /// Creates `path` empty with the file mode if it does not exist yet, so a
    /// program that opens it next (SQLite) keeps that mode; an existing file is
    /// left as it is.
    pub fn create_file(self, path: &Path) -> io::Result<()> {
        match self.options().create_new(true).open(path) {
            Ok(_) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Opens `path` for writing, creating it with the file mode if missing,
    /// without truncating it.
    pub fn open_writable(self, path: &Path) -> io::Result<File> {
        self.options().create(true).truncate(false).open(path)
    }

    /// Replaces `path` with `bytes` atomically: written to a temporary file,
    /// synced and renamed into place, so a crash leaves either the old file or
    /// the new one, never a mix. A new file or directory gets the mode.
    pub fn replace_file(self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        self.create_dir_all(dir)?;
        // Its own temporary file: a write cut off by a stop may still be running.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(format!(".{}.tmp", WRITES.fetch_add(1, Ordering::Relaxed)));
        let temporary = Path::new(&temporary);
        // Created afresh, so it has the mode; the rename keeps it.
        let _ = fs::remove_file(temporary);
        let mut file = self.open_writable(temporary)?;
        file.set_len(0)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(temporary, path)?;
        // The rename itself must reach the disk.
        File::open(dir)?.sync_all()
    }

    fn options(self) -> OpenOptions {
        let mut options = OpenOptions::new();
        options.write(true).mode(self.file_mode());
        options
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_and_directories_are_the_owners_alone_unless_the_group_is_let_in() {
        let root = tempfile::tempdir().unwrap();
        let private = root.path().join("a/b");
        FileAccess::Owner.create_dir_all(&private).unwrap();
        FileAccess::Owner.create_file(&private.join("f")).unwrap();
        assert_eq!(
            (mode(&root.path().join("a")), mode(&private)),
            (0o700, 0o700)
        );
        assert_eq!(mode(&private.join("f")), 0o600);
        let shared = root.path().join("c");
        FileAccess::Group.create_dir_all(&shared).unwrap();
        FileAccess::Group.create_file(&shared.join("f")).unwrap();
        assert_eq!((mode(&shared), mode(&shared.join("f"))), (0o750, 0o640));
    }

    #[test]
    fn an_existing_file_keeps_its_mode_and_its_content() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("f");
        std::fs::write(&path, b"kept").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        FileAccess::Owner.create_file(&path).unwrap();
        assert_eq!(
            (mode(&path), std::fs::read(&path).unwrap()),
            (0o644, b"kept".to_vec())
        );
    }
}
