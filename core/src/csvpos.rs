//! Line numbers of CSV records, right for CRLF files too: the `csv` crate's record position
//! points at the `\n` of a preceding `\r\n`, which would shift every line reported for a
//! file saved by Excel. Lines are counted from the true start of each record instead.

/// Counts lines incrementally over one buffer (records are met in order).
pub struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The 1-based line on which the record at byte `position` starts.
    pub fn line_at(&mut self, position: u64) -> u64 {
        let mut start = (position as usize).min(self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        self.line += self.bytes[self.offset..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.offset = start;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_lf_files_give_the_same_lines() {
        for data in ["a,b\r\n1,2\r\n3,4\r\n", "a,b\n1,2\n3,4\n"] {
            let mut lines = LineCounter::new(data.as_bytes());
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(data.as_bytes());
            let found: Vec<u64> = reader
                .byte_records()
                .map(|r| lines.line_at(r.unwrap().position().unwrap().byte()))
                .collect();
            assert_eq!(found, [1, 2, 3], "{data:?}");
        }
    }
}
