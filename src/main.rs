//! The `gec` binary: a shim over the library so that tests build exactly what runs.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    fixed_mmap_threshold();
    gec::cli::main()
}

/// Every password check (argon2id) takes a 19 MiB block. glibc's mmap threshold grows with
/// the largest block freed, so after the first check these blocks come from the heap of
/// whichever thread ran it, and each thread's heap keeps its 19 MiB: a server taking a login
/// every 0.2 s grew from 82 MB to 201 MB during an import. A fixed threshold keeps large
/// blocks mapped and gives them back when freed.
fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
