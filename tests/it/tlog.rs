//! The log's maths against transparency-dev/merkle's vectors (tests/vectors/merkle), and
//! proofs from stored nodes in a large log.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gec::tlog::merkle::{self, MemoryTree};
use serde_json::Value;

fn b64(v: &Value) -> Vec<u8> {
    STANDARD
        .decode(v.as_str().unwrap_or(""))
        .unwrap_or_default()
}

fn proof(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .map(|a| a.iter().map(b64).collect())
        .unwrap_or_default()
}

fn files(dir: &Path, into: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, into);
        } else if path.extension().is_some_and(|e| e == "json") {
            into.push(path);
        }
    }
}

#[test]
fn every_merkle_vector_is_accepted_or_refused_as_it_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/merkle");
    let mut all = Vec::new();
    files(&root, &mut all);
    assert_eq!(all.len(), 196, "the 196 vector files");
    let (mut accepted, mut refused) = (0, 0);
    for path in &all {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let result = if path.to_string_lossy().contains("/inclusion/") {
            merkle::verify_inclusion(
                v["leafIdx"].as_u64().unwrap(),
                v["treeSize"].as_u64().unwrap(),
                &b64(&v["leafHash"]),
                &proof(&v["proof"]),
                &b64(&v["root"]),
            )
        } else {
            merkle::verify_consistency(
                v["size1"].as_u64().unwrap(),
                v["size2"].as_u64().unwrap(),
                &b64(&v["root1"]),
                &b64(&v["root2"]),
                &proof(&v["proof"]),
            )
        };
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(
            result.is_err(),
            want_err,
            "{}: {:?}",
            path.display(),
            result
        );
        if want_err {
            refused += 1
        } else {
            accepted += 1
        }
    }
    assert!(
        accepted > 10 && refused > 100,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn proofs_in_a_log_of_a_million_entries_read_few_stored_nodes() {
    let mut tree = MemoryTree::default();
    for i in 0..1_000_000u64 {
        tree.append(merkle::leaf_hash(&i.to_be_bytes()));
    }
    let size = tree.size;
    let root = tree.root(size);
    for index in [0u64, 1, 499_999, 524_288, 999_999] {
        let plan = merkle::inclusion_plan(index, size);
        assert!(plan.nodes().len() <= 40, "{} nodes", plan.nodes().len());
        let hashes: Vec<Vec<u8>> = plan
            .resolve(&tree.nodes)
            .unwrap()
            .iter()
            .map(|h| h.to_vec())
            .collect();
        merkle::verify_inclusion(
            index,
            size,
            &merkle::leaf_hash(&index.to_be_bytes()),
            &hashes,
            &root,
        )
        .unwrap();
    }
    for old in [1u64, 2, 3, 777_777, 999_999] {
        let plan = merkle::consistency_plan(old, size);
        let hashes: Vec<Vec<u8>> = plan
            .resolve(&tree.nodes)
            .unwrap()
            .iter()
            .map(|h| h.to_vec())
            .collect();
        merkle::verify_consistency(old, size, &tree.root(old), &root, &hashes).unwrap();
    }
}
