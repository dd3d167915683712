//! C2SP tlog-tiles (token.md §7): the log as immutable tiles of 256 hashes and bundles of 256
//! entries, their paths, and the tree rebuilt from tiles alone.
//!
//! A hash tile at level `L` holds, for `i` in 0…255, the hash of the complete subtree of
//! `256^L` entries starting at `(N·256 + i)·256^L` — exactly the stored node at tree level
//! `8·L`, index `N·256 + i`. Any other complete subtree is hashed up from one tile's run of
//! hashes, so every root and proof the log serves can be recomputed from tiles.

use std::collections::HashMap;

use super::merkle::{self, Hash, NodeId};

/// Tile height: a tile spans 8 tree levels.
pub const HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile.
pub const WIDTH: u64 = 256;

/// What a tile holds: hashes at a level, or entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileKind {
    Hashes(u8),
    Entries,
}

/// A tile: its kind, index within its level, and width (256 for a full tile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tile {
    pub kind: TileKind,
    pub index: u64,
    pub width: u64,
}

/// `1234067` → `x001/x234/067`.
pub fn encode_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn parse_index(parts: &[&str]) -> Option<u64> {
    let (last, rest) = parts.split_last()?;
    let mut n: u64 = 0;
    for (i, part) in rest.iter().enumerate() {
        let digits = part.strip_prefix('x')?;
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let group: u64 = digits.parse().ok()?;
        // No leading zero groups: `x000/…` is not a canonical index.
        if i == 0 && group == 0 {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(group)?;
    }
    if last.len() != 3 || !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.checked_mul(1000)?.checked_add(last.parse().ok()?)
}

impl Tile {
    /// The path under `<prefix>/tile/`, e.g. `0/x001/234.p/7` or `entries/000`.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes(level) => level.to_string(),
            TileKind::Entries => "entries".into(),
        };
        let partial = if self.width < WIDTH {
            format!(".p/{}", self.width)
        } else {
            String::new()
        };
        format!("{level}/{}{partial}", encode_index(self.index))
    }

    /// Parses a path under `<prefix>/tile/`; `None` for anything the spec does not allow.
    pub fn parse(path: &str) -> Option<Tile> {
        let (path, width) = match path.split_once(".p/") {
            Some((head, w)) => {
                let width: u64 = w.parse().ok()?;
                if !(1..WIDTH).contains(&width) || w.starts_with('0') || w.starts_with('+') {
                    return None;
                }
                (head, width)
            }
            None => (path, WIDTH),
        };
        let parts: Vec<&str> = path.split('/').collect();
        let (first, rest) = parts.split_first()?;
        let kind = if *first == "entries" {
            TileKind::Entries
        } else {
            let level: u8 = first.parse().ok()?;
            if level > 63 || (first.len() > 1 && first.starts_with('0')) || first.starts_with('+') {
                return None;
            }
            TileKind::Hashes(level)
        };
        Some(Tile {
            kind,
            index: parse_index(rest)?,
            width,
        })
    }

    /// The tree level of the hashes this tile holds (entries: their leaves, level 0).
    /// (At most 63 · 8; a tree of `u64` entries has no level above 63.)
    pub fn node_level(&self) -> u32 {
        match self.kind {
            TileKind::Hashes(level) => u32::from(level) * u32::from(HEIGHT),
            TileKind::Entries => 0,
        }
    }

    /// The index (at [`Tile::node_level`]) of the tile's first hash or entry.
    pub fn first(&self) -> u64 {
        self.index.saturating_mul(WIDTH)
    }

    /// Whether a tree of `size` entries has all of this tile.
    pub fn within(&self, size: u64) -> bool {
        self.index
            .checked_mul(WIDTH)
            .and_then(|first| first.checked_add(self.width))
            .is_some_and(|end| available(self.node_level(), size) >= end)
    }
}

/// How many complete subtrees of tree level `node_level` a tree of `size` has.
fn available(node_level: u32, size: u64) -> u64 {
    if node_level >= 64 {
        0
    } else {
        size >> node_level
    }
}

/// Every tile of a tree of `size` entries: full tiles and the partial one of each level that
/// has one, hash tiles first (from level 0 up), then entry bundles.
pub fn tiles_of(size: u64) -> Vec<Tile> {
    let mut out = Vec::new();
    let mut push = |kind: TileKind, count: u64| {
        for index in 0..count / WIDTH {
            out.push(Tile {
                kind,
                index,
                width: WIDTH,
            });
        }
        if !count.is_multiple_of(WIDTH) {
            out.push(Tile {
                kind,
                index: count / WIDTH,
                width: count % WIDTH,
            });
        }
    };
    let mut level = 0u8;
    while level <= 7 && available(u32::from(level * HEIGHT), size) > 0 {
        push(
            TileKind::Hashes(level),
            available(u32::from(level * HEIGHT), size),
        );
        level += 1;
    }
    push(TileKind::Entries, size);
    out
}

/// The tile (as a tree of `size` has it) holding node `(level, index)` for a level that is a
/// multiple of 8, and the node's position in it.
fn tile_of(node_level: u8, index: u64, size: u64) -> (Tile, usize) {
    let node_level_wide = u32::from(node_level);
    let tile_index = index / WIDTH;
    let width = (available(node_level_wide, size) - tile_index * WIDTH).min(WIDTH);
    (
        Tile {
            kind: TileKind::Hashes(node_level / HEIGHT),
            index: tile_index,
            width,
        },
        (index % WIDTH) as usize,
    )
}

/// The hashes of these complete subtrees of a tree of `size`, computed from its hash tiles
/// alone: `fetch` answers a tile's hashes (`None` when it cannot). Each node is the root of a
/// run of hashes in one tile.
pub fn nodes_from_tiles(
    ids: &[NodeId],
    size: u64,
    mut fetch: impl FnMut(&Tile) -> Option<Vec<Hash>>,
) -> Result<HashMap<NodeId, Hash>, String> {
    let mut tiles: HashMap<Tile, Vec<Hash>> = HashMap::new();
    let mut out = HashMap::with_capacity(ids.len());
    for id in ids {
        let base = id.level - id.level % HEIGHT;
        let span = 1u64 << (id.level - base);
        let first = id.index * span;
        if available(u32::from(base), size) < first + span {
            return Err(format!("node {id:?} is not in a tree of size {size}"));
        }
        let (tile, at) = tile_of(base, first, size);
        if let std::collections::hash_map::Entry::Vacant(slot) = tiles.entry(tile) {
            let hashes = fetch(&tile).ok_or_else(|| format!("tile {} is missing", tile.path()))?;
            if hashes.len() as u64 != tile.width {
                return Err(format!(
                    "tile {} has {} hashes, not {}",
                    tile.path(),
                    hashes.len(),
                    tile.width
                ));
            }
            slot.insert(hashes);
        }
        let run = &tiles[&tile][at..at + span as usize];
        out.insert(*id, merkle::root_from_leaves(run));
    }
    Ok(out)
}

/// The root of a tree of `size` entries, from its hash tiles alone.
pub fn root_from_tiles(
    size: u64,
    fetch: impl FnMut(&Tile) -> Option<Vec<Hash>>,
) -> Result<Hash, String> {
    if size == 0 {
        return Ok(merkle::empty_root());
    }
    let plan = merkle::root_plan(size);
    let nodes = nodes_from_tiles(&plan.nodes(), size, fetch)?;
    plan.resolve(&nodes)
        .map(|h| h[0])
        .ok_or_else(|| "a node of the root is missing".into())
}

/// A hash tile's bytes: its hashes, concatenated.
pub fn hash_tile_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// A hash tile's hashes from its bytes (a multiple of 32 bytes).
pub fn parse_hash_tile(bytes: &[u8]) -> Option<Vec<Hash>> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(32) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap_or([0; 32]))
            .collect(),
    )
}

/// An entry bundle: each entry prefixed by its length as a big-endian `u16`.
pub fn bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for entry in entries {
        let len = u16::try_from(entry.len())
            .map_err(|_| format!("an entry of {} bytes does not fit a bundle", entry.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// The entries of a bundle.
pub fn unbundle(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 2 {
            return Err("a bundle ends inside a length".into());
        }
        let len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        if bytes.len() < 2 + len {
            return Err("a bundle ends inside an entry".into());
        }
        out.push(bytes[2..2 + len].to_vec());
        bytes = &bytes[2 + len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::merkle::MemoryTree;

    #[test]
    fn indices_are_written_in_groups_of_three() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(1_234_067), "x001/x234/067");
        for n in [0, 7, 1000, 1_234_067, u64::MAX] {
            let tile = Tile {
                kind: TileKind::Hashes(2),
                index: n,
                width: 5,
            };
            assert_eq!(Tile::parse(&tile.path()), Some(tile));
        }
        assert_eq!(
            Tile::parse("entries/x001/234.p/7"),
            Some(Tile {
                kind: TileKind::Entries,
                index: 1234,
                width: 7
            })
        );
        for bad in [
            "0/1",
            "0/0001",
            "00/000",
            "64/000",
            "0/x000/001",
            "0/001/002",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/07",
            "0/x1/000",
            "",
            "0",
            "entries",
            "0/000/",
        ] {
            assert_eq!(Tile::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_spec_example_tree_of_70000() {
        let tiles = tiles_of(70_000);
        let count = |kind, full: bool| {
            tiles
                .iter()
                .filter(|t| t.kind == kind && (t.width == WIDTH) == full)
                .count()
        };
        assert_eq!(count(TileKind::Hashes(0), true), 273);
        assert_eq!(count(TileKind::Hashes(0), false), 1);
        assert_eq!(count(TileKind::Hashes(1), true), 1);
        assert_eq!(count(TileKind::Hashes(1), false), 1);
        assert_eq!(count(TileKind::Hashes(2), false), 1);
        assert!(tiles.contains(&Tile {
            kind: TileKind::Hashes(0),
            index: 273,
            width: 112
        }));
        assert!(tiles.contains(&Tile {
            kind: TileKind::Hashes(1),
            index: 1,
            width: 17
        }));
        assert_eq!(tiles_of(256).len(), 3); // a full level-0 tile, level 1 of width 1, a bundle
    }

    #[test]
    fn roots_rebuild_from_tiles_alone() {
        let mut tree = MemoryTree::default();
        for i in 0..70_000u32 {
            tree.append(merkle::leaf_hash(&i.to_be_bytes()));
        }
        let fetch = |tile: &Tile| -> Option<Vec<Hash>> {
            let level = tile.node_level() as u8;
            (tile.first()..tile.first() + tile.width)
                .map(|i| tree.nodes.get(&NodeId { level, index: i }).copied())
                .collect()
        };
        for size in [1, 2, 255, 256, 257, 65_535, 65_536, 65_537, 70_000] {
            assert_eq!(
                root_from_tiles(size, fetch).unwrap(),
                tree.root(size),
                "{size}"
            );
        }
    }

    #[test]
    fn bundles_round_trip() {
        let entries: Vec<&[u8]> = vec![b"{}", b"", b"abc"];
        let bytes = bundle(entries.iter().copied()).unwrap();
        assert_eq!(&bytes[..4], &[0, 2, b'{', b'}']);
        assert_eq!(
            unbundle(&bytes).unwrap(),
            vec![b"{}".to_vec(), vec![], b"abc".to_vec()]
        );
        assert!(unbundle(&bytes[..bytes.len() - 1]).is_err());
        assert!(bundle([vec![0u8; 70_000].as_slice()]).is_err());
    }
}
