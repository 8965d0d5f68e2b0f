//! Where a command's output goes when the reader may stop reading: a
//! [`Sink`] never fails a write. It keeps the first error and drops
//! everything written after it, so that a closed pipe (`privai … | head`)
//! can neither cut a run short nor crash the process; the command then asks
//! [`Sink::error`] and decides: a read-only command ends quietly on a
//! closed pipe ([`Sink::finish`]), `apply` reports that its output was
//! lost and exits non-zero.

use std::io::{self, Write};

/// A writer that remembers its first error instead of returning it.
#[derive(Debug)]
pub struct Sink<W: Write> {
    inner: W,
    error: Option<io::Error>,
}

impl<W: Write> Sink<W> {
    /// Output to `inner`.
    pub fn new(inner: W) -> Self {
        Self { inner, error: None }
    }

    /// The first error a write or flush met, if any.
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }

    /// Flushes, then: `Ok` when everything was written or the reader went
    /// away (a closed pipe is the reader's choice, not a failure of a
    /// read-only command); the error otherwise (a full disk, say).
    pub fn finish(mut self) -> io::Result<()> {
        let _ = self.flush();
        match self.error {
            Some(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
            _ => Ok(()),
        }
    }

    fn keep(&mut self, result: io::Result<()>) {
        if let Err(e) = result
            && self.error.is_none()
        {
            self.error = Some(e);
        }
    }
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.error.is_none() {
            let result = self.inner.write_all(buf);
            self.keep(result);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.error.is_none() {
            let result = self.inner.flush();
            self.keep(result);
        }
        Ok(())
    }
}

/// Whether `error`, or any error it was caused by, is a closed pipe.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepts `room` bytes, then fails every write with `kind`.
    struct Closing {
        room: usize,
        kind: io::ErrorKind,
        got: Vec<u8>,
    }

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(self.kind.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn closing(room: usize, kind: io::ErrorKind) -> Closing {
        Closing {
            room,
            kind,
            got: Vec::new(),
        }
    }

    #[test]
    fn writes_after_the_reader_left_succeed_and_are_dropped_keeping_the_first_error() {
        let mut sink = Sink::new(closing(4, io::ErrorKind::BrokenPipe));

        writeln!(sink, "first line").unwrap();
        writeln!(sink, "second line").unwrap();

        assert_eq!(sink.inner.got, b"firs");
        assert_eq!(sink.error().unwrap().kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn a_closed_pipe_finishes_quietly_but_another_error_is_returned() {
        let mut quiet = Sink::new(closing(0, io::ErrorKind::BrokenPipe));
        writeln!(quiet, "x").unwrap();
        quiet.finish().unwrap();

        let mut full = Sink::new(closing(0, io::ErrorKind::StorageFull));
        writeln!(full, "x").unwrap();
        assert_eq!(
            full.finish().unwrap_err().kind(),
            io::ErrorKind::StorageFull
        );
    }

    #[test]
    fn everything_written_means_no_error() {
        let mut sink = Sink::new(Vec::new());
        writeln!(sink, "all of it").unwrap();
        assert!(sink.error().is_none());
        assert_eq!(sink.inner, b"all of it\n");
    }

    #[test]
    fn a_closed_pipe_is_recognised_under_context_and_inside_serde_json_errors() {
        let io = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe))
            .context("printing the plan");
        assert!(is_broken_pipe(&io));

        let json =
            serde_json::to_writer(closing(0, io::ErrorKind::BrokenPipe), &[1, 2]).unwrap_err();
        assert!(is_broken_pipe(&anyhow::Error::from(json)));

        let other = anyhow::Error::from(io::Error::from(io::ErrorKind::NotFound));
        assert!(!is_broken_pipe(&other));
    }
}
