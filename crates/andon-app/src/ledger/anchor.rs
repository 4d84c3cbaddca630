//! The checkpoint file: each server keeps the latest checkpoint it made durable outside
//! the database, so a start can refuse a database that is not an extension of it (rolled
//! back, truncated, or rewritten together with its checkpoints).
//!
//! The file holds the signed note, nothing else. It is replaced atomically (a temporary file
//! beside it, flushed, then renamed over it) and only ever with a checkpoint of the database
//! made durable first, so after a crash it is never ahead of the database. It is written
//! after each flush of the database and before the batches it covers are answered, so every
//! acknowledged entry is covered by the file (one more fsync per flush, shared by all the
//! batches the flush covers).

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Reads the file: `None` when there is none yet.
pub fn read(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(
            "cannot read the checkpoint file {}: {e}",
            path.display()
        )),
    }
}

/// Replaces the file with `note`, atomically.
pub fn write(path: &Path, note: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(note.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// Keeps the file up to date from the durability task.
pub(super) struct Anchor {
    path: Option<PathBuf>,
    written: u64,
}

impl Anchor {
    /// The file at `path` (none: checkpoints are not kept outside the database).
    pub(super) fn new(path: Option<PathBuf>) -> Self {
        Self { path, written: 0 }
    }

    /// Writes the checkpoint of `size`, durable in the database, unless a newer one was
    /// written. A failure is logged, not returned: the database holds the entries, the file
    /// only guards against losing them unnoticed.
    pub(super) async fn durable(&mut self, size: u64, note: &str) {
        let Some(path) = self.path.clone() else {
            return;
        };
        if size <= self.written && self.written > 0 {
            return;
        }
        let note = note.to_owned();
        let shown = path.display().to_string();
        match tokio::task::spawn_blocking(move || write(&path, &note)).await {
            Ok(Ok(())) => self.written = size,
            Ok(Err(e)) => {
                tracing::error!(error = %e, file = %shown, "writing the checkpoint file failed")
            }
            Err(e) => {
                tracing::error!(error = %e, file = %shown, "writing the checkpoint file failed")
            }
        }
    }
}
