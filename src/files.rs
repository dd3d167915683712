//! Files and folders the service and its commands write, each created with an explicit mode
//! whatever the umask (under `umask 000` a folder would otherwise be 0777 and a file 0666):
//! what lives in the data directory (the database, keys, the kept checkpoint) is its owner's
//! alone; what a command writes for publishing (tiles, QR images) is readable by all.

use std::io::Write;
use std::path::Path;

/// Who may read what is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The service's user alone: folders 0700, files 0600.
    Private,
    /// Everyone may read, the owner alone writes: folders 0755, files 0644.
    Public,
}

impl Access {
    fn dir_mode(self) -> u32 {
        match self {
            Access::Private => 0o700,
            Access::Public => 0o755,
        }
    }

    fn file_mode(self) -> u32 {
        match self {
            Access::Private => 0o600,
            Access::Public => 0o644,
        }
    }
}

/// Creates `path` and any missing parents with the access's mode, and sets that mode on
/// `path` itself if it already existed (a data directory made loose is tightened).
pub fn dir(path: &Path, access: Access) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(access.dir_mode())
            .create(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(access.dir_mode()))?;
    }
    #[cfg(not(unix))]
    {
        let _ = access;
        std::fs::create_dir_all(path)?;
    }
    Ok(())
}

/// Opens `path` for writing with the access's mode (`create_new`: never replacing a file).
pub fn options(access: Access) -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(access.file_mode());
    }
    #[cfg(not(unix))]
    let _ = access;
    options
}

/// Replaces `path` whole: written beside it with the access's mode, flushed to disk, renamed
/// over it, and the folder flushed; a crash leaves the old file or the new one, never half.
/// The folder is created (with the same access) when missing.
pub fn replace(path: &Path, bytes: &[u8], access: Access) -> std::io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let folder = parent.unwrap_or(Path::new("."));
    if !folder.exists() {
        dir(folder, access)?;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    {
        let mut file = options(access).create(true).truncate(true).open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(access.file_mode()))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(folder) = std::fs::File::open(folder) {
        let _ = folder.sync_all();
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn modes_are_explicit_whatever_the_umask() {
        let root = std::env::temp_dir().join(format!("gec-files-{}", std::process::id()));
        let private = root.join("data").join("keys");
        dir(&private, Access::Private).unwrap();
        assert_eq!(mode(&private), 0o700);
        replace(&private.join("keyring.json"), b"{}", Access::Private).unwrap();
        assert_eq!(mode(&private.join("keyring.json")), 0o600);
        let public = root.join("tiles").join("tile").join("0");
        replace(&public.join("000"), b"x", Access::Public).unwrap();
        assert_eq!(mode(&public), 0o755);
        assert_eq!(mode(&public.join("000")), 0o644);
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o777)).unwrap();
        dir(&private, Access::Private).unwrap();
        assert_eq!(mode(&private), 0o700, "a loose folder is tightened");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
