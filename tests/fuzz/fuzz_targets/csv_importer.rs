//! The CSV importer must refuse a bad file with row errors (or import a good one), never panic,
//! whatever bytes it is given. One SQLite database in a temporary folder serves every run.
#![no_main]

use std::sync::OnceLock;

use gec::store::audit::Actor;
use libfuzzer_sys::fuzz_target;

struct World {
    runtime: tokio::runtime::Runtime,
    db: gec::db::Db,
    _dir: std::path::PathBuf,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = std::env::temp_dir().join(format!("gec-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("fuzz.db").display());
        let db = runtime.block_on(gec::db::connect(&url)).unwrap();
        World { runtime, db, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let _ = w.runtime.block_on(gec::service::import::import_csv(
        &w.db,
        &gec::service::cache::Caches::default(),
        &Actor::system("fuzz"),
        None,
        &w._dir,
        data,
        &mut |_| {},
    ));
    let _ = gec::grading::BenchmarkTable::from_csv("fuzz", data);
});
