//! Opening inputs: plain or gzip (told by the magic bytes).
//!
//! A gzip file opens as [`Input::Gz`], decompressed by whoever reads it. The XES reader reads
//! it straight into the chunks it hands to its parser threads (decompression runs on the reading
//! thread, beside the parsers, with no copy in between); the CSV and JSON readers parse on one
//! thread, so they call [`Input::pipelined`] to decompress on a second thread: blocks of 1 MiB
//! pass through a channel of four, so memory stays a few MiB whatever the file size.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};
use std::thread;

use flate2::read::MultiGzDecoder;

const BLOCK: usize = 1 << 20;
const IN_FLIGHT: usize = 4;

/// An opened input. An enum rather than `Box<dyn BufRead>` so the parsers' many small
/// `fill_buf` calls are static, inlinable calls.
pub enum Input {
    File(BufReader<File>),
    Gz(BufReader<MultiGzDecoder<BufReader<File>>>),
    Piped(Pipelined),
    Memory(Cursor<Vec<u8>>),
    MemoryGz(BufReader<MultiGzDecoder<Cursor<Vec<u8>>>>),
}

pub fn open(path: &Path) -> io::Result<Input> {
    let mut file = BufReader::with_capacity(BLOCK, File::open(path)?);
    if is_gzip(&mut file)? {
        // Small: large reads pass this buffer by and land in the caller's buffer directly.
        let gz = BufReader::with_capacity(64 << 10, MultiGzDecoder::new(file));
        Ok(Input::Gz(gz))
    } else {
        Ok(Input::File(file))
    }
}

impl Input {
    /// The same input, a gzip file decompressed ahead on its own thread (for readers that parse
    /// on one thread). Bytes already buffered are kept.
    pub fn pipelined(self) -> Input {
        match self {
            Input::Gz(gz) => Input::Piped(Pipelined::spawn(gz)),
            other => other,
        }
    }
}

pub fn from_bytes(data: Vec<u8>) -> io::Result<Input> {
    let mut cur = Cursor::new(data);
    if is_gzip(&mut cur)? {
        Ok(Input::MemoryGz(BufReader::with_capacity(
            BLOCK,
            MultiGzDecoder::new(cur),
        )))
    } else {
        Ok(Input::Memory(cur))
    }
}

impl Read for Input {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::File(r) => r.read(out),
            Input::Gz(r) => r.read(out),
            Input::Piped(r) => r.read(out),
            Input::Memory(r) => r.read(out),
            Input::MemoryGz(r) => r.read(out),
        }
    }
}

impl BufRead for Input {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Input::File(r) => r.fill_buf(),
            Input::Gz(r) => r.fill_buf(),
            Input::Piped(r) => r.fill_buf(),
            Input::Memory(r) => r.fill_buf(),
            Input::MemoryGz(r) => r.fill_buf(),
        }
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        match self {
            Input::File(r) => r.consume(amt),
            Input::Gz(r) => r.consume(amt),
            Input::Piped(r) => r.consume(amt),
            Input::Memory(r) => r.consume(amt),
            Input::MemoryGz(r) => r.consume(amt),
        }
    }
}

fn is_gzip(r: &mut impl BufRead) -> io::Result<bool> {
    let head = r.fill_buf()?;
    Ok(head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b)
}

/// A reader fed by a thread that reads (decompresses) `inner` ahead, block by block. Read
/// blocks go back to the thread for reuse, so a long file does not fault in fresh pages.
pub struct Pipelined {
    rx: Receiver<io::Result<Vec<u8>>>,
    recycle: Sender<Vec<u8>>,
    block: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Pipelined {
    fn spawn<R: Read + Send + 'static>(mut inner: R) -> Pipelined {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        let (recycle, recycled) = channel::<Vec<u8>>();
        thread::spawn(move || {
            loop {
                let mut block = recycled.try_recv().unwrap_or_default();
                block.resize(BLOCK, 0);
                let mut filled = 0;
                let result = loop {
                    if filled == block.len() {
                        break Ok(());
                    }
                    match inner.read(&mut block[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                block.truncate(filled);
                let last = filled == 0;
                let msg = match result {
                    Ok(()) => Ok(block),
                    Err(e) => Err(e),
                };
                let failed = msg.is_err();
                // A closed channel means the reader stopped (an error upstream): stop too.
                if tx.send(msg).is_err() || last || failed {
                    return;
                }
            }
        });
        Pipelined {
            rx,
            recycle,
            block: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for Pipelined {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Pipelined {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.block.len() && !self.done {
            match self.rx.recv() {
                Ok(Ok(block)) if block.is_empty() => self.done = true,
                Ok(Ok(block)) => {
                    let used = std::mem::replace(&mut self.block, block);
                    // The thread may have finished; then the block is simply dropped.
                    let _ = self.recycle.send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The sender always sends an empty block or an error before it ends.
                Err(_) => self.done = true,
            }
        }
        Ok(&self.block[self.pos.min(self.block.len())..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.block.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_told_by_magic_and_pipelined_reads_all() {
        let data: Vec<u8> = (0..3 * BLOCK + 17).map(|i| (i % 251) as u8).collect();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&data).unwrap();
        let gz = enc.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        std::fs::write(&p, &gz).unwrap();
        let mut back = Vec::new();
        open(&p).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        let mut piped = open(&p).unwrap();
        let head = piped.fill_buf().unwrap().len();
        assert!(head > 0);
        back.clear();
        piped.pipelined().read_to_end(&mut back).unwrap();
        assert_eq!(back, data, "buffered bytes are kept when pipelining");
        let mut plain = Vec::new();
        from_bytes(data.clone())
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, data);
    }

    #[test]
    fn corrupt_gzip_is_an_error_not_a_hang() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&vec![b'a'; 100_000]).unwrap();
        let mut gz = enc.finish().unwrap();
        let mid = gz.len() / 2;
        gz[mid..].iter_mut().for_each(|b| *b ^= 0x55);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.gz");
        std::fs::write(&p, &gz).unwrap();
        let mut back = Vec::new();
        assert!(open(&p).unwrap().read_to_end(&mut back).is_err());
        back.clear();
        assert!(
            open(&p)
                .unwrap()
                .pipelined()
                .read_to_end(&mut back)
                .is_err()
        );
    }
}
