//! Appends padding entries to a database's log through the store's own append path, so that
//! `benches/scale.sh` can measure the public path beside a 1,000,000-entry log without issuing a
//! million codes through the API (about twenty minutes here). Each entry is a small JSON object
//! of kind `padding`; the nodes, the head and (at the next start) the signed checkpoint are the
//! real ones. Does nothing unless both variables are set:
//!   GEC_FILL_DATABASE=sqlite://…/gec.db?mode=rwc GEC_FILL_ENTRIES=900000 cargo bench --bench fill_log

use gec::store::tlog;

const CHUNK: u64 = 10_000;

fn main() {
    let (Ok(url), Ok(count)) = (
        std::env::var("GEC_FILL_DATABASE"),
        std::env::var("GEC_FILL_ENTRIES"),
    ) else {
        eprintln!("fill_log: set GEC_FILL_DATABASE and GEC_FILL_ENTRIES to append padding entries");
        return;
    };
    let count: u64 = count.parse().expect("GEC_FILL_ENTRIES: a whole number");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let db = gec::db::connect(&url).await.expect("database");
        tlog::ensure_head(&db).await.expect("log head");
        let mut done = 0;
        while done < count {
            let txn = gec::db::begin_write(&db).await.expect("transaction");
            let head = tlog::lock_head(&txn).await.expect("head");
            let entries: Vec<(String, String)> = (0..CHUNK.min(count - done))
                .map(|i| {
                    let index = head.size + i;
                    ("padding".to_owned(), format!("{{\"padding\":{index}}}"))
                })
                .collect();
            done += entries.len() as u64;
            tlog::append_many(&txn, head, &entries)
                .await
                .expect("append");
            txn.commit().await.expect("commit");
        }
        let head = tlog::read_head(&db).await.expect("head");
        println!("log size {}", head.size);
    });
}
