//! `gec backup FILE`: a consistent copy of the SQLite database, taken while the service runs
//! (`VACUUM INTO` reads one snapshot). PostgreSQL is backed up with its own tools (`pg_dump`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

#[derive(clap::Args)]
pub struct BackupArgs {
    /// Where to write the copy (must not exist).
    file: PathBuf,
}

pub async fn run(db: &crate::db::Db, args: &BackupArgs) -> anyhow::Result<ExitCode> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        bail!("this database is PostgreSQL: back it up with pg_dump (see the README)");
    }
    if args.file.exists() {
        bail!("{} exists: choose a new file", args.file.display());
    }
    let target = absolute(&args.file)?;
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "VACUUM INTO ?",
        [target.display().to_string().into()],
    ))
    .await
    .with_context(|| format!("writing {}", target.display()))?;
    #[cfg(unix)]
    {
        // The copy holds what the database holds: readable by its owner only.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} private", target.display()))?;
    }
    eprintln!(
        "backup written to {} (restore: stop the service and put it in place of gec.db)",
        target.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()?.join(path)
    })
}
