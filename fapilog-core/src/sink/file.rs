//! [`FileSink`]: appends batches to a file, rotating by size and/or time.
//!
//! Rotation renames files: the active file is `app.log`; rotating renames
//! `app.log.(n-1)` → `app.log.n` … `app.log` → `app.log.1`, deletes what is
//! beyond [`retain`](FileSinkBuilder::retain), and opens a fresh `app.log`
//! (with `retain` 0, the file is emptied in place instead).
//! Rotation never splits a line: a batch that would overflow
//! [`max_bytes`](FileSinkBuilder::max_bytes) is cut between lines, and a single
//! line longer than `max_bytes` is written alone into its own file.
//!
//! Before each batch the sink checks (one `stat`) that its path still names the
//! file it holds open, and takes the file's length from that `stat`, so a file
//! truncated in place (logrotate's `copytruncate`) or appended to by another
//! process is rotated by its real size. If the file was removed or replaced (an
//! external logrotate, a deleted directory) the sink reopens the path; while
//! that fails, `write` returns the error, and writing resumes once the path is
//! usable again.
//!
//! A write that fails part-way (a full disk) leaves no torn line: the bytes of
//! the partial line are cut off again (unless another process has appended
//! after them), and the error is a [`PartialWrite`] saying how many bytes of
//! the batch, whole lines, are in the files.
//!
//! A rotation that fails (a rename or delete refused) loses no line: the
//! batch goes on into the file at hand, past its size limit or its period,
//! and the error comes back as a [`PartialWrite`] accepting the whole batch,
//! so the writer counts and reports it without counting an event failed.
//! Every later batch tries the rotation again.
//!
//! # Example
//!
//! ```
//! use fapilog_core::sink::{FileSink, Rotation, Sink};
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("app.log");
//!
//! let mut sink = FileSink::builder(&path)
//!     .max_bytes(10 * 1024 * 1024)
//!     .rotation(Rotation::Daily)
//!     .retain(7)
//!     .build()?;
//! sink.write(b"{\"msg\":\"started\"}\n")?;
//! sink.flush()?;
//! assert_eq!(std::fs::read_to_string(&path)?, "{\"msg\":\"started\"}\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::{write_all_or_count, PartialWrite, Rotation, Sink};
use crate::ConfigError;

const PATH_SETTING: &str = "file.path";

/// Default for [`FileSinkBuilder::max_bytes`]: no size limit.
pub const DEFAULT_MAX_BYTES: Option<u64> = None;
/// Default for [`FileSinkBuilder::rotation`]: never rotate by time.
pub const DEFAULT_ROTATION: Rotation = Rotation::Never;
/// Default for [`FileSinkBuilder::retain`]: keep 5 rotated files.
pub const DEFAULT_RETAIN: usize = 5;
/// The largest value [`FileSinkBuilder::retain`] accepts.
pub const MAX_RETAIN: usize = 1000;
/// Default for [`FileSinkBuilder::create_dirs`]: missing directories are an error.
pub const DEFAULT_CREATE_DIRS: bool = false;
/// Default for [`FileSinkBuilder::fsync_on_flush`]: flush without `fsync`.
pub const DEFAULT_FSYNC_ON_FLUSH: bool = false;

/// A callback run during rotation, between the rename and the reopen.
#[derive(Clone)]
struct RotationHook(Arc<dyn Fn() + Send + Sync>);

impl fmt::Debug for RotationHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RotationHook")
    }
}

/// Configures and opens a [`FileSink`]; made by [`FileSink::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct FileSinkBuilder {
    path: PathBuf,
    max_bytes: Option<u64>,
    rotation: Rotation,
    retain: usize,
    create_dirs: bool,
    fsync_on_flush: bool,
    after_rename: Option<RotationHook>,
}

impl FileSinkBuilder {
    /// A builder for a sink appending to `path`, with every setting at its default.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileSinkBuilder {
            path: path.into(),
            max_bytes: DEFAULT_MAX_BYTES,
            rotation: DEFAULT_ROTATION,
            retain: DEFAULT_RETAIN,
            create_dirs: DEFAULT_CREATE_DIRS,
            fsync_on_flush: DEFAULT_FSYNC_ON_FLUSH,
            after_rename: None,
        }
    }

    /// Rotates before the active file would grow past `max_bytes` bytes.
    ///
    /// Lines are never split, so a file can only exceed the limit when it holds
    /// a single line longer than `max_bytes`, or while rotating fails (see
    /// the module's documentation). Must be at least 1.
    /// Default: no limit ([`DEFAULT_MAX_BYTES`]).
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = Some(max_bytes);
        self
    }

    /// Rotates at the start of each UTC hour or day.
    /// Default: [`Rotation::Never`] ([`DEFAULT_ROTATION`]).
    pub fn rotation(mut self, rotation: Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// How many rotated files (`app.log.1` … `app.log.N`) to keep; older ones are deleted.
    ///
    /// `0` keeps none: at rotation the full file is emptied in place
    /// (truncated) and written again from its start, so only the active
    /// file exists. At most [`MAX_RETAIN`].
    /// Default: [`DEFAULT_RETAIN`] (5).
    pub fn retain(mut self, retain: usize) -> Self {
        self.retain = retain;
        self
    }

    /// Creates the file's missing parent directories, at build and when reopening.
    /// Default: `false` ([`DEFAULT_CREATE_DIRS`]): a missing directory is an error.
    pub fn create_dirs(mut self, create_dirs: bool) -> Self {
        self.create_dirs = create_dirs;
        self
    }

    /// Makes [`Sink::flush`] also `fsync` the file's data to disk, and its
    /// directory once after the file is opened (so that a rotation's
    /// renames are on disk too). A file rotated away is `fsync`ed as the
    /// sink lets go of it (one replaced by another process, best effort).
    /// Default: `false` ([`DEFAULT_FSYNC_ON_FLUSH`]): flush hands data to the OS only.
    pub fn fsync_on_flush(mut self, fsync_on_flush: bool) -> Self {
        self.fsync_on_flush = fsync_on_flush;
        self
    }

    /// Test-only, not a stable API: `hook` runs during each rotation after the
    /// active file was renamed and before the fresh one is opened, so crash
    /// tests can stop a process at exactly that point.
    #[doc(hidden)]
    pub fn after_rename_hook(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.after_rename = Some(RotationHook(Arc::new(hook)));
        self
    }

    /// Checks the settings and opens the file for appending now.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the setting (`file.path`, `file.max_bytes`,
    /// `file.retain`) and the reason: the path is empty or a directory, its
    /// directory is missing (and `create_dirs` is off) or not a directory, or
    /// the file cannot be opened for writing.
    pub fn build(self) -> Result<FileSink, ConfigError> {
        self.validate()?;
        if self.create_dirs {
            create_parent(&self.path)
                .map_err(|e| ConfigError::unusable(PATH_SETTING, create_failure(&self.path), e))?;
        }
        let active = ActiveFile::open(&self.path, self.rotation)
            .map_err(|e| ConfigError::unusable(PATH_SETTING, open_failure(&self.path, &e), e))?;
        Ok(FileSink {
            path: self.path,
            max_bytes: self.max_bytes,
            rotation: self.rotation,
            retain: self.retain,
            create_dirs: self.create_dirs,
            fsync_on_flush: self.fsync_on_flush,
            after_rename: self.after_rename,
            active: Some(active),
        })
    }

    /// The checks of [`build`](Self::build) that need no file.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.path.as_os_str().is_empty() {
            return Err(ConfigError::invalid(
                PATH_SETTING,
                "\"\"",
                "must name a file",
            ));
        }
        if self.path.is_dir() {
            let reason = "is a directory; name a file inside it";
            return Err(ConfigError::invalid(
                PATH_SETTING,
                self.path.display(),
                reason,
            ));
        }
        if self.max_bytes == Some(0) {
            return Err(ConfigError::invalid(
                "file.max_bytes",
                0,
                "must be at least 1",
            ));
        }
        if self.retain > MAX_RETAIN {
            let reason = format!("must be at most {MAX_RETAIN}");
            return Err(ConfigError::invalid("file.retain", self.retain, reason));
        }
        Ok(())
    }
}

/// Appends batches of lines to a file, with optional size and time rotation.
///
/// Made by [`FileSink::builder`]. Rotation renames `app.log` to `app.log.1`
/// (shifting older files up and deleting those beyond
/// [`retain`](FileSinkBuilder::retain)) and starts a fresh `app.log`; it never
/// splits a line. Each batch costs one `stat`, which measures the file (it may
/// have been truncated in place or appended to by another process) and notices
/// it being removed or replaced, in which case the path is reopened; while that
/// fails, `write` returns the error, and writing resumes once the path is
/// usable again.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    max_bytes: Option<u64>,
    rotation: Rotation,
    retain: usize,
    create_dirs: bool,
    fsync_on_flush: bool,
    after_rename: Option<RotationHook>,
    /// `None` after a failed rotation or reopen; the next write reopens.
    active: Option<ActiveFile>,
}

impl FileSink {
    /// A builder for a sink appending to `path`.
    pub fn builder(path: impl Into<PathBuf>) -> FileSinkBuilder {
        FileSinkBuilder::new(path)
    }

    /// Opens `path` for appending with every setting at its default (no rotation).
    ///
    /// # Errors
    ///
    /// As [`FileSinkBuilder::build`].
    pub fn new(path: impl Into<PathBuf>) -> Result<FileSink, ConfigError> {
        FileSinkBuilder::new(path).build()
    }

    /// The path of the active file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `batch` as if the clock read `now`; `write` passes the real time.
    pub(crate) fn write_at(&mut self, now: SystemTime, batch: &[u8]) -> io::Result<()> {
        let mut active = self.take_usable_file()?;
        let mut written = 0;
        let result = self.write_batch(&mut active, now, batch, &mut written);
        self.active = Some(active);
        match result {
            Err(e) if written > 0 => Err(PartialWrite::new(written, e).into()),
            other => other,
        }
    }

    /// The open file, measured afresh, if its path still names it, else a freshly opened one.
    fn take_usable_file(&mut self) -> io::Result<ActiveFile> {
        if let Some(mut active) = self.active.take() {
            if active.remeasure_at(&self.path) {
                return Ok(active);
            }
            if self.fsync_on_flush {
                // Replaced: what this sink wrote to it is not flushed again.
                // Best effort: the file is another's now, and the batch at
                // hand goes to the new one either way.
                let _ = active.file.sync_data();
            }
        }
        self.reopen()
    }

    fn reopen(&self) -> io::Result<ActiveFile> {
        if self.create_dirs {
            create_parent(&self.path)?;
        }
        ActiveFile::open(&self.path, self.rotation)
    }

    /// Appends `batch`, rotating as needed; `written` counts the bytes of it
    /// that are in the files, which on an error is a whole number of lines.
    /// A failed rotation loses nothing (see the module's documentation).
    fn write_batch(
        &self,
        active: &mut ActiveFile,
        now: SystemTime,
        batch: &[u8],
        written: &mut usize,
    ) -> io::Result<()> {
        if active.starts_new_period(self.rotation, now) {
            if let Err(e) = self.rotate(active) {
                return self.write_past_limit(active, batch, written, e);
            }
        }
        active.enter_period(self.rotation, now);
        let mut rest = batch;
        while !rest.is_empty() {
            let take = self.fitting_prefix(active.size, rest);
            if take == 0 {
                if let Err(e) = self.rotate(active) {
                    return self.write_past_limit(active, rest, written, e);
                }
                active.enter_period(self.rotation, now);
                continue;
            }
            active.append(&rest[..take])?;
            *written += take;
            rest = &rest[take..];
        }
        Ok(())
    }

    /// Appends `rest` after a failed rotation, then returns that failure.
    fn write_past_limit(
        &self,
        active: &mut ActiveFile,
        rest: &[u8],
        written: &mut usize,
        rotation: io::Error,
    ) -> io::Result<()> {
        active.append(rest)?;
        *written += rest.len();
        Err(io::Error::new(
            rotation.kind(),
            format!(
                "cannot rotate {} ({rotation}); writing on past its limit or period",
                self.path.display()
            ),
        ))
    }

    /// How many leading bytes of `rest` go into a file already holding `size`
    /// bytes: the whole lines that fit, or, in an empty file, at least one line.
    /// 0 means "rotate first".
    fn fitting_prefix(&self, size: u64, rest: &[u8]) -> usize {
        let Some(max) = self.max_bytes else {
            return rest.len();
        };
        let room = usize::try_from(max.saturating_sub(size)).unwrap_or(usize::MAX);
        if rest.len() <= room {
            return rest.len();
        }
        let whole_lines = rest[..room]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        if whole_lines == 0 && size == 0 {
            return first_line_len(rest);
        }
        whole_lines
    }

    /// Renames the files along and replaces `active` with a fresh, empty
    /// file; with `retain` 0, empties `active` in place instead, so that no
    /// failure can leave it a deleted file still written to.
    fn rotate(&self, active: &mut ActiveFile) -> io::Result<()> {
        if self.retain == 0 {
            remove_rotated_from(&self.path, 1)?;
            return active.empty();
        }
        shift_rotated_files(&self.path, self.retain)?;
        if self.fsync_on_flush {
            // Renamed away, the file is never flushed by this sink again.
            active.file.sync_data()?;
        }
        if let Some(RotationHook(hook)) = &self.after_rename {
            hook();
        }
        *active = ActiveFile::open(&self.path, self.rotation)?;
        Ok(())
    }
}

impl Sink for FileSink {
    fn write(&mut self, batch: &[u8]) -> io::Result<()> {
        self.write_at(SystemTime::now(), batch)
    }

    fn flush(&mut self) -> io::Result<()> {
        let Some(active) = self.active.as_mut() else {
            return Ok(());
        };
        active.file.flush()?;
        if self.fsync_on_flush {
            active.file.sync_data()?;
            active.sync_name(&self.path)?;
        }
        Ok(())
    }

    fn name(&self) -> String {
        format!("file:{}", self.path.display())
    }
}

/// The file being written, with what the sink tracks about it.
#[derive(Debug)]
struct ActiveFile {
    file: File,
    /// Bytes in the file: its length at open or at the start of the batch,
    /// plus what this sink appended since.
    size: u64,
    /// Device and inode (Unix), to notice the path being replaced.
    identity: (u64, u64),
    /// The rotation period the file's content belongs to; `None` until known.
    period: Option<u64>,
    /// Whether the directory entry naming the file may not be on disk yet
    /// (it was opened, maybe created, after a rotation renamed the last one).
    name_unsynced: bool,
}

impl ActiveFile {
    /// Opens (creating if needed) `path` for appending.
    fn open(path: &Path, rotation: Rotation) -> io::Result<ActiveFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let meta = file.metadata()?;
        let size = meta.len();
        // A non-empty file belongs to the period it was last written in, so a
        // restart in a later period rotates it before writing.
        let period = match meta.modified() {
            Ok(time) if size > 0 => rotation.period_index(time),
            _ => None,
        };
        Ok(ActiveFile {
            file,
            size,
            identity: identity(&meta),
            period,
            name_unsynced: true,
        })
    }

    /// Empties the file in place, to be written again from its start.
    fn empty(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.size = 0;
        self.period = None;
        Ok(())
    }

    /// `fsync`s the directory holding `path` once after the file was
    /// opened, so that its name, and the renames before it, are on disk.
    fn sync_name(&mut self, path: &Path) -> io::Result<()> {
        if self.name_unsynced {
            sync_dir(parent_dir(path))?;
            self.name_unsynced = false;
        }
        Ok(())
    }

    /// Whether `path` still names this file; if so, takes its length from the
    /// same `stat`, since another process may have changed it (logrotate's
    /// `copytruncate` empties it in place, another writer appends).
    fn remeasure_at(&mut self, path: &Path) -> bool {
        match fs::metadata(path) {
            Ok(meta) if identity(&meta) == self.identity => {
                self.size = meta.len();
                true
            }
            _ => false,
        }
    }

    /// Whether writing at `now` must first start a new file.
    fn starts_new_period(&self, rotation: Rotation, now: SystemTime) -> bool {
        match (self.period, rotation.period_index(now)) {
            (Some(current), Some(now)) => self.size > 0 && now > current,
            _ => false,
        }
    }

    /// Records that the file now holds content of `now`'s period.
    fn enter_period(&mut self, rotation: Rotation, now: SystemTime) {
        let now = rotation.period_index(now);
        if self.size == 0 || self.period.is_none() || now > self.period {
            self.period = now;
        }
    }

    /// Appends `bytes` whole, or on an error cuts off whatever part of them
    /// got in (best effort), so no torn line stays in the file.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Err((done, err)) = write_all_or_count(&mut self.file, bytes) {
            let _ = self.take_back(done as u64);
            return Err(err);
        }
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Cuts off the last `done` bytes this sink appended, if they still end
    /// the file. Cutting by their count, not to a remembered size, never
    /// extends the file nor cuts what another process appended before them;
    /// if one appended after them, the file is left as it is.
    fn take_back(&mut self, done: u64) -> io::Result<()> {
        if done == 0 {
            return Ok(());
        }
        // In append mode each write leaves the offset at the end of its bytes.
        let end = self.file.stream_position()?;
        if self.file.metadata()?.len() == end {
            self.file.set_len(end.saturating_sub(done))?;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn identity(meta: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(_meta: &fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// `app.log` becomes `app.log.1` (`retain` at least 1): the files from
/// `app.log.1` up to the first missing number move up by one, and only when
/// none is missing below `retain` is the oldest, `app.log.<retain>`,
/// deleted. A rotation that failed part-way leaves such a gap, which the
/// next attempt fills: retried, it deletes no more files.
fn shift_rotated_files(path: &Path, retain: usize) -> io::Result<()> {
    // Any left beyond `retain` by a run with a larger one (gaps and all).
    remove_rotated_from(path, retain + 1)?;
    let gap = (1..=retain).find(|&n| fs::symlink_metadata(rotated_path(path, n)).is_err());
    let top = match gap {
        Some(n) => n,
        None => {
            remove_if_exists(&rotated_path(path, retain))?;
            retain
        }
    };
    for n in (1..top).rev() {
        fs::rename(rotated_path(path, n), rotated_path(path, n + 1))?;
    }
    fs::rename(path, rotated_path(path, 1))
}

/// Deletes every `app.log.<n>` with `n >= from`, found by listing the
/// directory: a rotation is rare, and counting up from `from` would stop at
/// the first missing number. Numbers past [`MAX_RETAIN`] are never this
/// sink's (`app.log.20240310` is a date, from another tool) and are left alone.
fn remove_rotated_from(path: &Path, from: usize) -> io::Result<()> {
    let Some(name) = path.file_name() else {
        return Ok(());
    };
    let dir = parent_dir(path);
    let mut prefix = name.to_os_string();
    prefix.push(".");
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let number = file_name
            .as_encoded_bytes()
            .strip_prefix(prefix.as_encoded_bytes())
            .and_then(rotation_number);
        if number.is_some_and(|n| (from..=MAX_RETAIN).contains(&n)) {
            remove_if_exists(&entry.path())?;
        }
    }
    Ok(())
}

/// `n` from the suffix of `app.log.<n>` as this sink writes it: digits, no
/// leading zero (so `app.log.01`, someone else's file, is left alone).
pub(crate) fn rotation_number(suffix: &[u8]) -> Option<usize> {
    if suffix.first() == Some(&b'0') || !suffix.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(suffix).ok()?.parse().ok()
}

/// `app.log` → `app.log.<n>`.
fn rotated_path(path: &Path, n: usize) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Removes `path`; a missing one is no error.
fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Makes the directory's entries (names, renames) durable. Some file
/// systems (network, FUSE) cannot sync a directory (EINVAL, EBADF): there
/// is nothing more to do, and it is no fault.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    const EBADF: i32 = 9;
    match File::open(dir)?.sync_all() {
        Err(e) if e.kind() == io::ErrorKind::InvalidInput || e.raw_os_error() == Some(EBADF) => {
            Ok(())
        }
        other => other,
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Length of the first line of `bytes`, its `\n` included (all of it if none).
fn first_line_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i + 1)
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn create_parent(path: &Path) -> io::Result<()> {
    fs::create_dir_all(parent_dir(path))
}

/// Why creating the directory of `path` failed, in words that point at the fix.
fn create_failure(path: &Path) -> String {
    let dir = parent_dir(path);
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => format!("{} is not a directory", dir.display()),
        _ => format!("cannot create directory {}", dir.display()),
    }
}

/// Why opening `path` failed with `err`, in words that point at the fix.
fn open_failure(path: &Path, err: &io::Error) -> String {
    let dir = parent_dir(path);
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => format!(
            "directory {} does not exist (create it, or set create_dirs(true))",
            dir.display()
        ),
        Ok(meta) if !meta.is_dir() => format!("{} is not a directory", dir.display()),
        _ if err.kind() == io::ErrorKind::PermissionDenied => {
            format!("no permission to write {}", path.display())
        }
        _ => format!("cannot open {} for appending", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    // 2024-03-10T00:00:00Z
    const DAY_START: u64 = 1_710_028_800;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap()
    }

    /// A temporary directory and the log file path inside it.
    fn scratch() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        (dir, path)
    }

    fn sized(path: &Path, max_bytes: u64, retain: usize) -> FileSink {
        let builder = FileSink::builder(path).max_bytes(max_bytes);
        builder.retain(retain).build().unwrap()
    }

    fn timed(path: &Path, rotation: Rotation) -> FileSink {
        FileSink::builder(path).rotation(rotation).build().unwrap()
    }

    #[test]
    fn appends_and_names_itself() {
        let (_dir, path) = scratch();
        fs::write(&path, "old\n").unwrap();
        let mut sink = FileSink::new(&path).unwrap();
        sink.write(b"a\nb\n").unwrap();
        sink.flush().unwrap();
        assert_eq!(read(&path), "old\na\nb\n");
        assert_eq!(sink.name(), format!("file:{}", path.display()));
        assert_eq!(sink.path(), path);
    }

    #[test]
    fn batch_is_cut_between_lines() {
        let (_dir, path) = scratch();
        let mut sink = FileSink::builder(&path).max_bytes(10).build().unwrap();
        sink.write(b"aaaa\nbbbb\ncccc\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "aaaa\nbbbb\n");
        assert_eq!(read(&path), "cccc\n");
    }

    #[test]
    fn oversized_line_gets_its_own_file() {
        let (_dir, path) = scratch();
        let mut sink = FileSink::builder(&path).max_bytes(8).build().unwrap();
        sink.write(b"ab\n0123456789\ncd\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 2)), "ab\n");
        assert_eq!(read(&rotated_path(&path, 1)), "0123456789\n");
        assert_eq!(read(&path), "cd\n");
    }

    #[test]
    fn retain_zero_keeps_only_the_active_file() {
        let (_dir, path) = scratch();
        let mut sink = sized(&path, 4, 0);
        sink.write(b"aaa\nbbb\nccc\n").unwrap();
        assert_eq!(read(&path), "ccc\n");
        assert!(!rotated_path(&path, 1).exists());
    }

    #[test]
    fn retain_zero_empties_the_file_it_holds() {
        let (_dir, path) = scratch();
        let mut sink = sized(&path, 4, 0);
        sink.write(b"aaa\n").unwrap();
        let reader = File::open(&path).unwrap();
        sink.write(b"bbb\n").unwrap();
        // The same file, emptied: there is no moment when the sink holds
        // a deleted file that it could go on writing to.
        assert_eq!(reader.metadata().unwrap().len(), 4);
        assert_eq!(
            identity(&reader.metadata().unwrap()),
            identity(&fs::metadata(&path).unwrap())
        );
        assert_eq!(read(&path), "bbb\n");
    }

    #[test]
    fn a_gap_left_by_a_failed_rotation_is_filled_not_widened() {
        let (_dir, path) = scratch();
        // As a rotation that failed after moving app.log.2 up leaves them.
        fs::write(rotated_path(&path, 1), "2\n").unwrap();
        fs::write(rotated_path(&path, 3), "1\n").unwrap();
        let mut sink = sized(&path, 2, 3);
        sink.write(b"3\n4\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 3)), "1\n", "the oldest is kept");
        assert_eq!(read(&rotated_path(&path, 2)), "2\n");
        assert_eq!(read(&rotated_path(&path, 1)), "3\n");
        assert_eq!(read(&path), "4\n");
        sink.write(b"5\n").unwrap();
        assert!(!rotated_path(&path, 4).exists());
        assert_eq!(
            read(&rotated_path(&path, 3)),
            "2\n",
            "full: the oldest goes"
        );
    }

    #[test]
    fn lowered_retain_deletes_leftovers() {
        let (_dir, path) = scratch();
        for n in 1..=4 {
            fs::write(rotated_path(&path, n), format!("{n}\n")).unwrap();
        }
        let mut sink = sized(&path, 2, 2);
        sink.write(b"x\ny\n").unwrap();
        assert_eq!(read(&path), "y\n");
        assert_eq!(read(&rotated_path(&path, 1)), "x\n");
        assert_eq!(read(&rotated_path(&path, 2)), "1\n");
        assert!(!rotated_path(&path, 3).exists());
        assert!(!rotated_path(&path, 4).exists());
    }

    #[test]
    fn lowered_retain_deletes_leftovers_past_a_gap() {
        let (_dir, path) = scratch();
        for n in [1, 2, 5, 9, 12] {
            fs::write(rotated_path(&path, n), format!("{n}\n")).unwrap();
        }
        let other = path.with_file_name("app.log.05");
        fs::write(&other, "not ours\n").unwrap();
        let dated = path.with_file_name("app.log.20240310");
        fs::write(&dated, "not ours either\n").unwrap();
        let mut sink = sized(&path, 2, 2);
        sink.write(b"x\ny\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "x\n");
        assert_eq!(read(&rotated_path(&path, 2)), "1\n");
        for n in [3, 5, 9, 12] {
            assert!(!rotated_path(&path, n).exists(), "app.log.{n} left");
        }
        assert_eq!(read(&other), "not ours\n");
        assert_eq!(read(&dated), "not ours either\n");
    }

    #[test]
    fn rotation_numbers_are_plain_decimals() {
        assert_eq!(rotation_number(b"7"), Some(7));
        assert_eq!(rotation_number(b"12"), Some(12));
        for suffix in [&b""[..], b"0", b"07", b"1.gz", b"x", b"-1"] {
            assert_eq!(rotation_number(suffix), None, "{suffix:?}");
        }
    }

    #[test]
    fn hourly_rotation_at_the_boundary_keeps_order() {
        let (_dir, path) = scratch();
        let mut sink = timed(&path, Rotation::Hourly);
        sink.write_at(at(DAY_START + 3598), b"1\n").unwrap();
        sink.write_at(at(DAY_START + 3599), b"2\n").unwrap();
        sink.write_at(at(DAY_START + 3600), b"3\n").unwrap();
        sink.write_at(at(DAY_START + 3601), b"4\n").unwrap();
        sink.write_at(at(DAY_START + 7200), b"5\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 2)), "1\n2\n");
        assert_eq!(read(&rotated_path(&path, 1)), "3\n4\n");
        assert_eq!(read(&path), "5\n");
    }

    #[test]
    fn daily_rotation_skips_quiet_days_and_ignores_clock_going_back() {
        let (_dir, path) = scratch();
        let mut sink = timed(&path, Rotation::Daily);
        sink.write_at(at(DAY_START + 10), b"1\n").unwrap();
        sink.write_at(at(DAY_START + 3 * 86_400), b"2\n").unwrap();
        sink.write_at(at(DAY_START + 2 * 86_400), b"3\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "1\n");
        assert_eq!(read(&path), "2\n3\n");
        assert!(!rotated_path(&path, 2).exists());
    }

    #[test]
    fn existing_file_from_an_earlier_period_is_rotated_first() {
        let (_dir, path) = scratch();
        fs::write(&path, "yesterday\n").unwrap();
        let file = File::options().append(true).open(&path).unwrap();
        file.set_modified(at(DAY_START)).unwrap();
        drop(file);
        let mut sink = timed(&path, Rotation::Daily);
        sink.write_at(at(DAY_START + 86_400), b"today\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "yesterday\n");
        assert_eq!(read(&path), "today\n");
    }

    #[test]
    fn time_and_size_rotation_together() {
        let (_dir, path) = scratch();
        let mut sink = FileSink::builder(&path)
            .rotation(Rotation::Hourly)
            .max_bytes(4)
            .build()
            .unwrap();
        sink.write_at(at(DAY_START), b"a\nb\nc\n").unwrap();
        sink.write_at(at(DAY_START + 3600), b"d\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 2)), "a\nb\n");
        assert_eq!(read(&rotated_path(&path, 1)), "c\n");
        assert_eq!(read(&path), "d\n");
    }

    #[test]
    fn rotation_failure_is_returned_and_recovers() {
        let (_dir, path) = scratch();
        let mut sink = sized(&path, 2, 1);
        sink.write(b"a\n").unwrap();
        // A directory where the oldest rotated file goes makes the delete fail.
        fs::create_dir(rotated_path(&path, 1)).unwrap();
        let err = sink.write(b"b\n").unwrap_err();
        assert_eq!(PartialWrite::accepted_by(&err), 2);
        assert!(err.to_string().contains("cannot rotate"), "{err}");
        fs::remove_dir(rotated_path(&path, 1)).unwrap();
        sink.write(b"c\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "a\nb\n");
        assert_eq!(read(&path), "c\n");
    }

    #[test]
    fn a_failed_rotation_loses_no_line() {
        let (_dir, path) = scratch();
        let mut sink = sized(&path, 4, 1);
        fs::create_dir(rotated_path(&path, 1)).unwrap();
        // Cut by the limit: the first line fits, the second goes in past it.
        let err = sink.write(b"ab\ncd\n").unwrap_err();
        assert_eq!(PartialWrite::accepted_by(&err), 6);
        // Full already: every later batch tries again, and still gets in.
        let err = sink.write(b"ef\n").unwrap_err();
        assert_eq!(PartialWrite::accepted_by(&err), 3);
        assert_eq!(read(&path), "ab\ncd\nef\n");
    }

    #[test]
    fn a_failed_rotation_at_a_new_period_is_tried_again() {
        let (_dir, path) = scratch();
        let builder = FileSink::builder(&path).rotation(Rotation::Hourly);
        let mut sink = builder.retain(1).build().unwrap();
        sink.write_at(at(DAY_START + 10), b"1\n").unwrap();
        fs::create_dir(rotated_path(&path, 1)).unwrap();
        let err = sink.write_at(at(DAY_START + 3600), b"2\n").unwrap_err();
        assert_eq!(PartialWrite::accepted_by(&err), 2);
        fs::remove_dir(rotated_path(&path, 1)).unwrap();
        sink.write_at(at(DAY_START + 3601), b"3\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "1\n2\n");
        assert_eq!(read(&path), "3\n");
    }

    #[test]
    fn rotation_hook_runs_between_rename_and_reopen() {
        let (_dir, path) = scratch();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let probe = (Arc::clone(&seen), path.clone());
        let mut sink = FileSink::builder(&path)
            .max_bytes(3)
            .after_rename_hook(move || {
                let (seen, path) = &probe;
                seen.lock()
                    .unwrap()
                    .push((path.exists(), rotated_path(path, 1).exists()));
            })
            .build()
            .unwrap();
        sink.write(b"a\nb\n").unwrap();
        assert_eq!(*seen.lock().unwrap(), [(false, true)]);
    }

    #[test]
    fn a_file_truncated_in_place_is_measured_again() {
        let (_dir, path) = scratch();
        let mut sink = sized(&path, 100, 2);
        fs::write(rotated_path(&path, 1), "kept\n").unwrap();
        let (first, second) = ("a".repeat(79) + "\n", "b".repeat(29) + "\n");
        sink.write(first.as_bytes()).unwrap();
        // logrotate's copytruncate: the same file, emptied.
        let file = File::options().write(true).open(&path).unwrap();
        file.set_len(0).unwrap();
        sink.write(second.as_bytes()).unwrap();
        assert_eq!(read(&path), second);
        assert_eq!(read(&rotated_path(&path, 1)), "kept\n");
    }

    #[test]
    fn another_writers_lines_count_towards_max_bytes() {
        let (_dir, path) = scratch();
        let mut sink = sized(&path, 10, 1);
        sink.write(b"a\n").unwrap();
        let mut other = File::options().append(true).open(&path).unwrap();
        other.write_all(b"other\n").unwrap();
        sink.write(b"b\nc\n").unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "a\nother\nb\n");
        assert_eq!(read(&path), "c\n");
    }

    /// Set in the child process [`in_limited_child`] starts.
    #[cfg(unix)]
    const LIMITED_CHILD: &str = "FAPILOG_FILE_LIMIT_CHILD";

    /// Whether this process is the child running test `name` with files limited
    /// to 512 bytes (`ulimit -f 1`, SIGXFSZ ignored): a write crossing the
    /// limit is cut short and the next one fails, as on a disk filling up
    /// part-way through a write. In the parent, runs that child and asserts
    /// the test passed there.
    #[cfg(unix)]
    fn in_limited_child(name: &str) -> bool {
        if std::env::var_os(LIMITED_CHILD).is_some() {
            return true;
        }
        let mut limited = std::process::Command::new("sh");
        limited
            .args(["-c", r#"trap "" XFSZ; ulimit -f 1; exec "$0" "$@""#])
            .arg(std::env::current_exe().unwrap());
        crate::sink::test_child::run(limited, name, LIMITED_CHILD);
        false
    }

    #[cfg(unix)]
    #[test]
    fn a_write_cut_short_takes_back_only_its_own_bytes() {
        if !in_limited_child("sink::file::tests::a_write_cut_short_takes_back_only_its_own_bytes") {
            return;
        }
        let (_dir, path) = scratch();
        let long_line = "x".repeat(999) + "\n";
        let mut active = ActiveFile::open(&path, Rotation::Never).unwrap();
        // Another writer appends after the sink measured the file as empty.
        let mut other = File::options().append(true).open(&path).unwrap();
        other.write_all(b"other\n").unwrap();
        assert!(active.append(long_line.as_bytes()).is_err());
        assert_eq!(read(&path), "other\n");
        // The file is emptied in place after the sink measured 100 bytes.
        other.set_len(0).unwrap();
        active.size = 100;
        assert!(active.append(long_line.as_bytes()).is_err());
        assert_eq!(read(&path), "");
    }

    #[test]
    fn replaced_file_is_reopened() {
        let (dir, path) = scratch();
        let mut sink = FileSink::new(&path).unwrap();
        sink.write(b"1\n").unwrap();
        fs::rename(&path, dir.path().join("moved.log")).unwrap();
        sink.write(b"2\n").unwrap();
        assert_eq!(read(&path), "2\n");
        assert_eq!(read(&dir.path().join("moved.log")), "1\n");
    }

    #[test]
    fn invalid_settings_name_the_setting() {
        let (_dir, path) = scratch();
        let err = FileSink::builder(&path).max_bytes(0).build().unwrap_err();
        assert_eq!(err.setting(), "file.max_bytes");
        let err = FileSink::builder(&path)
            .retain(MAX_RETAIN + 1)
            .build()
            .unwrap_err();
        assert_eq!(err.setting(), "file.retain");
        assert!(err.to_string().contains("at most 1000"), "{err}");
        let err = FileSink::builder("").build().unwrap_err();
        assert_eq!(err.setting(), "file.path");
    }

    #[test]
    fn defaults() {
        let builder = FileSinkBuilder::new("x.log");
        assert_eq!(builder.max_bytes, DEFAULT_MAX_BYTES);
        assert_eq!(builder.rotation, Rotation::Never);
        assert_eq!(builder.retain, DEFAULT_RETAIN);
        assert!(!builder.create_dirs);
        assert!(!builder.fsync_on_flush);
    }

    #[test]
    fn fsync_on_flush_flushes() {
        let (_dir, path) = scratch();
        let mut sink = FileSink::builder(&path)
            .fsync_on_flush(true)
            .build()
            .unwrap();
        sink.write(b"x\n").unwrap();
        sink.flush().unwrap();
        assert_eq!(read(&path), "x\n");
        let mut sink = FileSink::builder(&path)
            .fsync_on_flush(true)
            .max_bytes(2)
            .build()
            .unwrap();
        sink.write(b"y\n").unwrap();
        sink.flush().unwrap();
        assert_eq!(read(&rotated_path(&path, 1)), "x\n");
        assert_eq!(read(&path), "y\n");
    }
}
