//! `gec import FILE.csv`: a district's CSV file, all or nothing, with a progress bar on a
//! terminal and plain progress lines otherwise.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::service::cache::Caches;
use crate::service::import::{self, ImportError};
use crate::store::audit::Actor;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The CSV file (UTF-8, with or without BOM; `gec import --template` prints the header).
    #[arg(required_unless_present = "template")]
    file: Option<PathBuf>,
    /// Print the template (header and an example row) and exit.
    #[arg(long)]
    template: bool,
}

pub async fn run(
    db: &crate::db::Db,
    data_dir: &std::path::Path,
    args: &ImportArgs,
) -> anyhow::Result<ExitCode> {
    if args.template {
        print!("{}", import::template());
        return Ok(ExitCode::SUCCESS);
    }
    let Some(path) = &args.file else {
        return Ok(ExitCode::FAILURE);
    };
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let total = bytes.len() as u64;
    let mut progress: Box<dyn FnMut(u64) + Send> = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} importing [{bar:40}] {percent}% {elapsed_precise} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Box::new(move |done| {
            bar.set_position(done);
            if done >= total {
                bar.finish_and_clear();
            }
        })
    } else {
        let mut last_tenth = 0;
        Box::new(move |done| {
            let tenth = (done * 10).checked_div(total).unwrap_or(10);
            if tenth > last_tenth {
                last_tenth = tenth;
                eprintln!("import: {}% read", tenth * 10);
            }
        })
    };
    match import::import_csv(
        db,
        &Caches::default(),
        &Actor::system("cli"),
        None,
        data_dir,
        &bytes,
        &mut *progress,
    )
    .await
    {
        Ok(report) => {
            eprintln!(
                "imported {} rows: {} firms created, {} assessments submitted",
                report.rows,
                report.firms_created,
                report.assessment_ids.len()
            );
            println!(
                "{}",
                serde_json::to_string(
                    &serde_json::json!({"rows": report.rows, "firms_created": report.firms_created, "assessments": report.assessment_ids.len()})
                )?
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Rows(rows)) => {
            eprintln!(
                "the file was refused; nothing was stored. {} fault(s):",
                rows.len()
            );
            for row in &rows {
                eprintln!("  {row}");
            }
            Ok(ExitCode::FAILURE)
        }
        Err(ImportError::Failed(e)) => Err(anyhow::anyhow!("{e}")),
    }
}

#[derive(clap::Args)]
pub struct NoTouchArgs {
    /// The reporting year to file from what data sources attested.
    #[arg(long)]
    year: i32,
}

/// `gec no-touch --year Y`: 无感申报 for every registered firm whose figures of the year all
/// came from data sources (each filing then waits for review, like a regulator's run); prints
/// the report as JSON (the firms filed, those incomplete with what they miss) and progress on
/// standard error.
pub async fn no_touch(db: &crate::db::Db, args: &NoTouchArgs) -> anyhow::Result<ExitCode> {
    let this_year = chrono::Datelike::year(&crate::service::records::today());
    if !(2000..this_year).contains(&args.year) {
        anyhow::bail!(
            "--year must be a completed reporting year (2000 to {})",
            this_year - 1
        );
    }
    let mut last_tenth = 0;
    let report = crate::service::readings::no_touch::file_all(
        db,
        &Caches::default(),
        &Actor::system("cli"),
        None,
        args.year,
        &mut |p| {
            let tenth = (p.done * 10).checked_div(p.total).unwrap_or(10);
            if tenth > last_tenth {
                last_tenth = tenth;
                eprintln!(
                    "no-touch: {}% of {} firms looked at, {} filed",
                    tenth * 10,
                    p.total,
                    p.filed
                );
            }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "filed {} firms; {} incomplete; {} had filed already; {} USCCs not registered",
        report.filed.len(),
        report.incomplete.len(),
        report.already_filed,
        report.unregistered
    );
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}
