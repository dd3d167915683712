//! Connecting to SQLite or PostgreSQL, migrating, and opening write transactions that queue.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use gec_core::tlog::merkle::{self, Hash, NodeId};

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::OwnedMutexGuard;

/// The database and the machinery this process keeps for it: the queue of SQLite writers, the
/// writer thread and its PostgreSQL pool, the log's frontier, and the parts that the layers
/// above keep per database (the approval queue). A cheap handle (`Clone`); every clone shares
/// the machinery, and the machinery goes with the last clone. It derefs to the
/// `DatabaseConnection` for reads.
#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    machinery: Arc<Machinery>,
}

struct Machinery {
    /// This process's writers on a SQLite file take turns (see [`WriteTxn`]).
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// The writer thread (see [`Db::spawn_on_writer`]), started on first use.
    writer: OnceLock<WriterThread>,
    /// The writer thread's PostgreSQL connections (see [`Db::for_writer`]).
    writer_pool: OnceLock<DatabaseConnection>,
    /// The log's frontier as the last append through this handle left it.
    frontier: LogFrontier,
    /// Machinery of the layers above, one of each type (the approval queue of
    /// `service::issue`): kept here so that it lives and dies with this database's handle.
    parts: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Db {
    /// A handle on an open pool, with machinery of its own.
    pub fn new(conn: DatabaseConnection) -> Db {
        Db {
            conn,
            machinery: Arc::new(Machinery {
                write_turn: Arc::default(),
                writer: OnceLock::new(),
                writer_pool: OnceLock::new(),
                frontier: LogFrontier::default(),
                parts: Mutex::default(),
            }),
        }
    }

    /// The pool.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Closes the pool (every clone's: they share it).
    pub async fn close(self) -> Result<(), DbErr> {
        self.conn.close().await
    }

    /// The part of type `T` that a layer above keeps for this database, made on first use.
    pub fn part<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut parts = self
            .machinery
            .parts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let part = parts
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        match part.clone().downcast::<T>() {
            Ok(part) => part,
            // Unreachable: the entry of a type holds that type.
            Err(_) => Arc::new(T::default()),
        }
    }

    /// Starts a write on the writer thread: a runtime of its own, so that the holder of the
    /// write turn is woken at once after each statement instead of queueing behind every
    /// request that became ready meanwhile (on two cores under the mixed load of
    /// `benches/load.sh`, approvals ran at 101/s with a p99 of 126 ms on the request runtime,
    /// 168/s and 60 ms here). The work goes on whether or not anyone awaits it.
    pub fn spawn_on_writer<F>(&self, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let writer = self.machinery.writer.get_or_init(WriterThread::start);
        match &writer.0 {
            Some(runtime) => runtime.spawn(work),
            // Should the thread not start, the work runs on the caller's runtime.
            None => tokio::spawn(work),
        }
    }

    /// The connections the writer thread's work uses (call it on that thread). On PostgreSQL
    /// a small pool of its own, opened on the writer thread so that its sockets wake that
    /// thread's runtime: a connection of the shared pool is driven by the request threads'
    /// runtime, which under load looks for its answers only between requests, so each of an
    /// approval group's round trips waited behind them. On SQLite the shared pool (its
    /// connections run on threads of their own).
    pub fn for_writer(&self) -> Db {
        if self.conn.get_database_backend() != DatabaseBackend::Postgres {
            return self.clone();
        }
        let pool = self.machinery.writer_pool.get_or_init(|| {
            let options = self.conn.get_postgres_connection_pool().connect_options();
            let pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .min_connections(0)
                .idle_timeout(Duration::from_secs(30))
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with((*options).clone());
            sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
        });
        Db {
            conn: pool.clone(),
            machinery: self.machinery.clone(),
        }
    }
}

impl std::ops::Deref for Db {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        &self.conn
    }
}

/// The writer thread's runtime. Shut down without waiting when its database's handle goes
/// (a runtime may not be dropped, blocking, from inside another).
struct WriterThread(Option<tokio::runtime::Runtime>);

impl WriterThread {
    fn start() -> WriterThread {
        WriterThread(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("gec-writer")
                .enable_all()
                .build()
                .map_err(|err| tracing::error!(%err, "the writer thread did not start"))
                .ok(),
        )
    }
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The nodes an append starts from (those of the head's root plan), as the last append left
/// them: the next append needs not read them while the head (a size and a root) is still that
/// head. A log never forks, so a size and a root name one tree and its nodes; an append that
/// rolled back is never asked for again (the head stays the one before it), or if it is, it
/// names the same tree.
#[derive(Default)]
pub struct LogFrontier(Mutex<Option<(TreeHead, HashMap<NodeId, Hash>)>>);

/// A tree's size and root.
type TreeHead = (u64, Hash);

impl LogFrontier {
    /// The nodes of the root plan of the tree of `size` and `root`, if the last append left it.
    pub fn of(&self, size: u64, root: Hash) -> Option<HashMap<NodeId, Hash>> {
        let last = self.0.lock().ok()?;
        let (at, nodes) = last.as_ref()?;
        (*at == (size, root)).then(|| nodes.clone())
    }

    /// Keeps the nodes of the root plan of the tree of `size` and `root` from `known` (all of
    /// them, or nothing).
    pub fn remember(&self, size: u64, root: Hash, known: &HashMap<NodeId, Hash>) {
        if size == 0 {
            return;
        }
        let plan = merkle::root_plan(size).nodes();
        let nodes: Option<HashMap<NodeId, Hash>> = plan
            .iter()
            .map(|id| known.get(id).map(|hash| (*id, *hash)))
            .collect();
        if let (Some(nodes), Ok(mut last)) = (nodes, self.0.lock()) {
            *last = Some(((size, root), nodes));
        }
    }
}

/// Opens the pool for `url` and brings the schema up to date.
///
/// SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout, so that
/// writers queue for the lock instead of failing with "database is locked".
/// How long a request waits for a database connection before it is answered 503
/// `unavailable`: while the database is down the pool keeps trying to connect, and a request
/// should fail fast instead of hanging (a restart measured 10 s a request at the old 10 s).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How many transactions sqlx counts open on a connection.
fn open_transactions<D: sea_orm::sqlx::Database>(conn: &D::Connection) -> usize {
    use sqlx_core::transaction::TransactionManager;
    <D::TransactionManager>::get_transaction_depth(conn)
}

/// The page size of a new SQLite database (an existing one keeps its own). An assessment row
/// holds its input, trace and carbon trace (about 2 KB): on 4 KiB pages one row fitted a page,
/// half of it empty, and an import wrote twice the bytes it kept (10⁵ firms: 500 MB, 12.4 s;
/// on 16 KiB pages 361 MB, 9.2 s).
const PAGE_SIZE: u32 = 16384;

/// The page cache of `gec log recover`'s SQLite connection, in KiB: its one transaction writes
/// the same index pages again and again, which SQLite's default 2 MB cache spilled to the WAL
/// and read back (10⁶ entries: 120 s with the default, 113 s with this, at 389 MB resident).
/// Import, filing and regrade keep the default: it gained them nothing measurable and took
/// the import's memory from 138 to 366 MB. The server keeps the default too.
pub const BATCH_CACHE_KIB: u32 = 256 * 1024;

pub async fn connect(url: &str) -> Result<Db, DbErr> {
    connect_with(url, None).await
}

/// [`connect`], with a page cache of `cache_kib` on each SQLite connection.
pub async fn connect_with(url: &str, cache_kib: Option<u32>) -> Result<Db, DbErr> {
    let sqlite_file = sqlite_path(url);
    if let Some(path) = &sqlite_file {
        private_file(path).map_err(|e| DbErr::Custom(format!("{}: {e}", path.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // A batch with a large page cache (recovery) needs two connections — its transaction
        // and its read-ahead — and each holds a cache: no more than two.
        .max_connections(match (url.starts_with("sqlite:"), cache_kib) {
            (true, Some(_)) => 2,
            (true, None) => 8,
            (false, _) => 16,
        })
        .min_connections(1)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.page_size(PAGE_SIZE)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .create_if_missing(true)
                .pragma("cache_size", format!("-{}", cache_kib.unwrap_or(2000)))
        })
        .map_sqlx_sqlite_pool_opts(|opts| {
            // A connection whose COMMIT failed (SQLITE_FULL on a full disk) may come back with
            // SQLite's transaction — or sqlx's count of it — still open: reused, its next
            // "BEGIN IMMEDIATE" became a savepoint in that stale transaction, and writes hung or
            // were lost. Such a connection is closed instead of handed out (closing rolls back).
            opts.before_acquire(|conn, _| {
                Box::pin(async move { Ok(open_transactions::<sea_orm::sqlx::Sqlite>(conn) == 0) })
            })
        });
    let db = Database::connect(options).await?;
    Migrator::up(&db, None).await?;
    if let Some(path) = &sqlite_file {
        // SQLite gives its -wal and -shm files the database's mode; make sure of it.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.clone().into_os_string();
            side.push(suffix);
            let side = std::path::PathBuf::from(side);
            if side.exists() {
                private_file(&side)
                    .map_err(|e| DbErr::Custom(format!("{}: {e}", side.display())))?;
            }
        }
    }
    Ok(Db::new(db))
}

/// The file of a SQLite URL (`sqlite://PATH?…` or `sqlite:PATH`), if it names one.
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| std::path::PathBuf::from(path))
}

/// The database holds password hashes and every firm's figures: readable by its owner only.
/// Creates the file with mode 0600 when missing, and tightens an existing one.
fn private_file(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A transaction that will write. On SQLite it waits its turn in this process first (one
/// writer at a time, first come first served), then begins `BEGIN IMMEDIATE`: the write lock is
/// taken up front, so two writers never both read and then deadlock upgrading their locks, and
/// no writer of this process waits in SQLite's busy handler, whose growing sleeps let a newcomer
/// overtake a writer that has waited for long (the mixed load's approvals saw a p99 of a second
/// that way). The busy timeout still covers other processes (the command line). PostgreSQL's
/// row locks already queue fairly.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
    machinery: Arc<Machinery>,
}

/// Begins a write transaction (see [`WriteTxn`]).
pub async fn begin_write(db: &Db) -> Result<WriteTxn, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        let txn = db.conn.begin().await?;
        return Ok(WriteTxn {
            txn,
            _turn: None,
            machinery: db.machinery.clone(),
        });
    }
    let turn = db.machinery.write_turn.clone().lock_owned().await;
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let txn = db.conn.begin_with_options(options).await?;
    Ok(WriteTxn {
        txn,
        _turn: Some(turn),
        machinery: db.machinery.clone(),
    })
}

/// The tables a grade is read from and written to, which recovery and regrade read row by row
/// (see [`vacuum_analyze`]).
pub const GRADED_TABLES: [&str; 5] = ["firms", "assessments", "codes", "certifications", "vetoes"];

/// Before a batch that reads every row of `tables` (recovery, regrade), on PostgreSQL:
/// `VACUUM (ANALYZE)` them. Rows just restored by `pg_restore`, or just rewritten by a batch,
/// carry no hint bits yet and have no statistics: the batch's first read of each page would
/// then write the page again (setting the bits) and dead versions would be read beside live
/// ones — measured at 10⁶ firms, recovery after a restore took 225 s instead of 136 s and a
/// regrade after a recovery 49 s instead of 19 s; the vacuum itself took 4 s and 11 s. SQLite
/// has neither, and nothing is done there.
pub async fn vacuum_analyze(db: &Db, tables: &[&str]) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres || tables.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = tables.iter().map(|t| format!("\"{t}\"")).collect();
    db.conn
        .execute_unprepared(&format!("VACUUM (ANALYZE) {}", list.join(", ")))
        .await?;
    Ok(())
}

/// `ids` for an `IN (…)` list, lengthened to a power of two by repeating the last: a group's
/// reads then take one of a few statement shapes, which each connection keeps prepared,
/// instead of one per length (which pushed each other out of the statement cache).
pub fn in_list<T: Copy>(ids: &[T]) -> Vec<T> {
    let mut list = ids.to_vec();
    if let Some(&last) = ids.last() {
        list.resize(ids.len().next_power_of_two(), last);
    }
    list
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }

    /// The log's frontier kept for this transaction's database.
    pub fn log_frontier(&self) -> &LogFrontier {
        &self.machinery.frontier
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.conn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.conn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.conn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.conn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.conn.support_returning()
    }
}

/// Whether the database answers (for `/healthz`).
pub async fn ping(db: &Db) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::{Db, connect, in_list};
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    #[tokio::test]
    async fn each_database_keeps_its_own_machinery_shared_by_its_clones() {
        let a: Db = connect("sqlite::memory:").await.unwrap();
        let b: Db = connect("sqlite::memory:").await.unwrap();
        let of_a = a.part::<AtomicU64>();
        assert!(Arc::ptr_eq(&of_a, &a.clone().part::<AtomicU64>()));
        assert!(!Arc::ptr_eq(&of_a, &b.part::<AtomicU64>()));
        // The writer thread's work runs, and answers, for each handle.
        assert_eq!(a.spawn_on_writer(async { 7 }).await.unwrap(), 7);
        assert_eq!(b.spawn_on_writer(async { 8 }).await.unwrap(), 8);
    }

    #[test]
    fn an_in_list_is_lengthened_to_a_power_of_two_with_its_last_id() {
        assert_eq!(in_list::<i64>(&[]), Vec::<i64>::new());
        assert_eq!(in_list(&[7]), vec![7]);
        assert_eq!(in_list(&[1, 2, 3]), vec![1, 2, 3, 3]);
        assert_eq!(in_list(&[1, 2, 3, 4]), vec![1, 2, 3, 4]);
        assert_eq!(in_list(&[5, 6, 7, 8, 9]).len(), 8);
    }
}
