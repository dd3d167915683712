//! RFC 9162 Merkle trees over an append-only list of entries.
//!
//! The service stores the hash of every *complete* subtree: node (level, index) covers entries
//! `[index·2^level, (index+1)·2^level)`. Appending entry n completes one node per trailing one
//! bit of n+1, so storage is about 2n hashes. Any root, and any inclusion or consistency proof
//! of a tree of size ≤ the log's size, is then a fold over O(log n) stored nodes: the proof
//! functions here first name the nodes they need ([`Plan`]), the store fetches those in one
//! query, and [`Plan::resolve`] assembles the hashes — nothing is rehashed from the leaves.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// A complete subtree: `2^level` entries starting at `index·2^level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The nodes completed by appending entry `index` (the leaf, then each parent it completes),
/// with how to compute each from the ones before it: `(node, left child, right child)`.
pub fn completed_by_append(index: u64) -> Vec<(NodeId, NodeId, NodeId)> {
    let mut out = Vec::new();
    let mut node = NodeId { level: 0, index };
    while node.index % 2 == 1 {
        let parent = NodeId {
            level: node.level + 1,
            index: node.index / 2,
        };
        out.push((
            parent,
            NodeId {
                level: node.level,
                index: node.index - 1,
            },
            node,
        ));
        node = parent;
    }
    out
}

/// A hash to be computed from stored nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Node(NodeId),
    Pair(Box<Expr>, Box<Expr>),
}

impl Expr {
    fn collect(&self, into: &mut Vec<NodeId>) {
        match self {
            Expr::Node(id) => into.push(*id),
            Expr::Pair(l, r) => {
                l.collect(into);
                r.collect(into);
            }
        }
    }

    fn eval(&self, nodes: &HashMap<NodeId, Hash>) -> Option<Hash> {
        match self {
            Expr::Node(id) => nodes.get(id).copied(),
            Expr::Pair(l, r) => Some(node_hash(&l.eval(nodes)?, &r.eval(nodes)?)),
        }
    }
}

/// The hashes a proof or root needs, as expressions over stored nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub items: Vec<Expr>,
}

impl Plan {
    /// The stored nodes to fetch, each once.
    pub fn nodes(&self) -> Vec<NodeId> {
        let mut ids = Vec::new();
        for item in &self.items {
            item.collect(&mut ids);
        }
        ids.sort();
        ids.dedup();
        ids
    }

    /// The hashes, or `None` when a needed node is missing.
    pub fn resolve(&self, nodes: &HashMap<NodeId, Hash>) -> Option<Vec<Hash>> {
        self.items.iter().map(|e| e.eval(nodes)).collect()
    }
}

fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n > 1);
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[a:b]) as an expression over complete subtrees.
fn subtree(a: u64, b: u64) -> Expr {
    let n = b - a;
    if n.is_power_of_two() && a.is_multiple_of(n) {
        return Expr::Node(NodeId {
            level: n.trailing_zeros() as u8,
            index: a / n,
        });
    }
    let k = largest_power_of_two_below(n);
    Expr::Pair(Box::new(subtree(a, a + k)), Box::new(subtree(a + k, b)))
}

/// The root of the first `size` entries (`size` ≥ 1).
pub fn root_plan(size: u64) -> Plan {
    Plan {
        items: vec![subtree(0, size)],
    }
}

/// RFC 9162 §2.1.3.1 PATH(index, D[0:size]), for `index < size`.
pub fn inclusion_plan(index: u64, size: u64) -> Plan {
    fn path(m: u64, a: u64, b: u64, out: &mut Vec<Expr>) {
        if b - a <= 1 {
            return;
        }
        let k = largest_power_of_two_below(b - a);
        if m < a + k {
            path(m, a, a + k, out);
            out.push(subtree(a + k, b));
        } else {
            path(m, a + k, b, out);
            out.push(subtree(a, a + k));
        }
    }
    let mut items = Vec::new();
    path(index, 0, size, &mut items);
    Plan { items }
}

/// RFC 9162 §2.1.4.1 PROOF(old, D[0:new]), for `0 < old ≤ new`.
pub fn consistency_plan(old: u64, new: u64) -> Plan {
    fn subproof(m: u64, a: u64, b: u64, whole: bool, out: &mut Vec<Expr>) {
        let n = b - a;
        if m == n {
            if !whole {
                out.push(subtree(a, b));
            }
            return;
        }
        let k = largest_power_of_two_below(n);
        if m <= k {
            subproof(m, a, a + k, whole, out);
            out.push(subtree(a + k, b));
        } else {
            subproof(m - k, a + k, b, false, out);
            out.push(subtree(a, a + k));
        }
    }
    let mut items = Vec::new();
    if old < new {
        subproof(old, 0, new, true, &mut items);
    }
    Plan { items }
}

/// Computes a root directly from all leaf hashes (for tests and small logs).
pub fn root_from_leaves(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            node_hash(
                &root_from_leaves(&leaves[..k]),
                &root_from_leaves(&leaves[k..]),
            )
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofError(pub &'static str);

impl std::fmt::Display for ProofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ProofError {}

/// RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`?
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError("index is not below the tree size"));
    }
    if leaf.len() != 32 || proof.iter().any(|p| p.len() != 32) {
        return Err(ProofError("hashes must be 32 bytes"));
    }
    let mut f = index;
    let mut s = size - 1;
    let mut r: Hash = leaf.try_into().map_err(|_| ProofError("leaf hash size"))?;
    for p in proof {
        let p: Hash = p
            .as_slice()
            .try_into()
            .map_err(|_| ProofError("proof hash size"))?;
        if s == 0 {
            return Err(ProofError("proof is too long"));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(&p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, &p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError("proof is too short"));
    }
    if r.as_slice() != root {
        return Err(ProofError("computed root does not match"));
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: is the tree of size `new` with `new_root` an extension of the tree of
/// size `old` with `old_root`? Equal sizes need equal roots and an empty proof; a proof from
/// the empty tree proves nothing and is refused.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &[u8],
    new_root: &[u8],
    proof: &[Vec<u8>],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError("the old size is larger than the new size"));
    }
    if old == 0 {
        return Err(ProofError("consistency with the empty tree proves nothing"));
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError("equal sizes need an empty proof"));
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError("roots differ"))
        };
    }
    if proof.is_empty() {
        return Err(ProofError("empty proof"));
    }
    if proof.iter().any(|p| p.len() != 32) || old_root.len() != 32 {
        return Err(ProofError("hashes must be 32 bytes"));
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(old_root.try_into().map_err(|_| ProofError("root size"))?);
    }
    for p in proof {
        path.push(
            p.as_slice()
                .try_into()
                .map_err(|_| ProofError("proof hash size"))?,
        );
    }
    let mut f = old - 1;
    let mut s = new - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return Err(ProofError("proof is too long"));
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError("proof is too short"));
    }
    if fr.as_slice() != old_root || sr.as_slice() != new_root {
        return Err(ProofError("computed roots do not match"));
    }
    Ok(())
}

/// An in-memory node store, built by appending (for tests, benchmarks and tools).
#[derive(Default)]
pub struct MemoryTree {
    pub nodes: HashMap<NodeId, Hash>,
    pub size: u64,
}

impl MemoryTree {
    pub fn append(&mut self, leaf: Hash) {
        let index = self.size;
        self.nodes.insert(NodeId { level: 0, index }, leaf);
        for (parent, left, right) in completed_by_append(index) {
            let hash = node_hash(&self.nodes[&left], &self.nodes[&right]);
            self.nodes.insert(parent, hash);
        }
        self.size += 1;
    }

    pub fn root(&self, size: u64) -> Hash {
        if size == 0 {
            return empty_root();
        }
        root_plan(size)
            .resolve(&self.nodes)
            .map(|h| h[0])
            .unwrap_or_else(empty_root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(n: u64) -> (MemoryTree, Vec<Hash>) {
        let mut t = MemoryTree::default();
        let leaves: Vec<Hash> = (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect();
        for leaf in &leaves {
            t.append(*leaf);
        }
        (t, leaves)
    }

    #[test]
    fn stored_nodes_give_the_same_roots_as_the_definition() {
        let (t, leaves) = tree(37);
        for size in 1..=37u64 {
            assert_eq!(
                t.root(size),
                root_from_leaves(&leaves[..size as usize]),
                "size {size}"
            );
        }
    }

    #[test]
    fn every_inclusion_and_consistency_proof_verifies() {
        let (t, leaves) = tree(33);
        for size in 1..=33u64 {
            let root = t.root(size);
            for index in 0..size {
                let proof = inclusion_plan(index, size).resolve(&t.nodes).unwrap();
                let proof: Vec<Vec<u8>> = proof.iter().map(|h| h.to_vec()).collect();
                verify_inclusion(index, size, &leaves[index as usize], &proof, &root).unwrap();
            }
            for old in 1..=size {
                let proof = consistency_plan(old, size).resolve(&t.nodes).unwrap();
                let proof: Vec<Vec<u8>> = proof.iter().map(|h| h.to_vec()).collect();
                verify_consistency(old, size, &t.root(old), &root, &proof)
                    .unwrap_or_else(|e| panic!("{old}->{size}: {e}"));
            }
        }
    }

    #[test]
    fn a_proof_needs_few_stored_nodes() {
        let plan = inclusion_plan(123_456, 1_000_000);
        assert!(plan.nodes().len() <= 2 * 20, "{}", plan.nodes().len());
        let plan = consistency_plan(654_321, 1_000_000);
        assert!(plan.nodes().len() <= 2 * 20, "{}", plan.nodes().len());
    }
}
