//! The one printer of a run's events ([`crate::apply::events`]): for a
//! person (the lines `apply` has always printed) or as JSON lines
//! (`privai apply --json`), one object per event and per line of a step's
//! text.

use crate::apply::events::{Event, Progress};
use std::io::{self, Write};

/// How events are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Lines for a person.
    Human,
    /// One JSON object per line.
    Json,
}

/// Renders events on `out` in `format`.
pub struct Printer<W: Write> {
    out: JsonLines<W>,
    format: Format,
}

impl<W: Write> Printer<W> {
    /// A printer of `format` on `out`.
    pub fn new(out: W, format: Format) -> Self {
        Self {
            out: JsonLines {
                out,
                line: Vec::new(),
                json: format == Format::Json,
            },
            format,
        }
    }

    /// The writer beneath.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out.out
    }

    /// Its format.
    pub fn format(&self) -> Format {
        self.format
    }
}

impl<W: Write> Progress for Printer<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        let out = &mut self.out.out;
        if self.format == Format::Json {
            serde_json::to_writer(&mut *out, event)?;
            return writeln!(out);
        }
        match event {
            Event::Planned { .. } | Event::Started { .. } => Ok(()),
            Event::Progress { message } => writeln!(out, "{message}"),
            Event::Done {
                address,
                symbol,
                staged,
                ..
            } => {
                let status = if *staged { "not run (staged)" } else { "done" };
                writeln!(out, "  {symbol} {address}: {status}")
            }
            Event::Checked { report } => writeln!(out, "  {report}"),
            Event::LockWritten { path } => {
                writeln!(out, "  wrote the models' digests to `{path}`")
            }
            Event::Failed { failure } => writeln!(out, "  failed: {failure}"),
            Event::RollingBack => writeln!(out, "  rolling back"),
            // The outcome's summary is `apply_view`'s, with the plan's counts.
            Event::Applied { .. } | Event::RolledBack { .. } => Ok(()),
        }
    }

    fn text(&mut self) -> &mut dyn Write {
        &mut self.out
    }
}

/// Text written as it is, or, for JSON, each line as a `progress` event.
struct JsonLines<W: Write> {
    out: W,
    line: Vec<u8>,
    json: bool,
}

impl<W: Write> Write for JsonLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.json {
            return self.out.write(buf);
        }
        for &byte in buf {
            if byte == b'\n' {
                let line = String::from_utf8_lossy(&self.line).into_owned();
                self.line.clear();
                serde_json::to_writer(&mut self.out, &Event::Progress { message: &line })?;
                writeln!(self.out)?;
            } else if byte != b'\r' {
                self.line.push(byte);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(staged: bool) -> Event<'static> {
        Event::Done {
            step: 3,
            address: "file box:/etc/x",
            change: "create",
            symbol: "+",
            staged,
        }
    }

    #[test]
    fn a_person_sees_the_lines_apply_has_always_printed() {
        let mut printer = Printer::new(Vec::new(), Format::Human);
        printer
            .event(&Event::Started {
                step: 3,
                address: "file box:/etc/x",
                change: "create",
            })
            .unwrap();
        printer.event(&done(false)).unwrap();
        printer.event(&done(true)).unwrap();
        printer.event(&Event::Failed { failure: "boom" }).unwrap();
        printer.event(&Event::RollingBack).unwrap();
        writeln!(printer.text(), "    tiny: pulling").unwrap();
        assert_eq!(
            String::from_utf8(printer.get_mut().clone()).unwrap(),
            "  + file box:/etc/x: done\n  + file box:/etc/x: not run (staged)\n  failed: boom\n  rolling back\n    tiny: pulling\n"
        );
    }

    #[test]
    fn json_is_one_object_per_event_and_per_line_of_text() {
        let mut printer = Printer::new(Vec::new(), Format::Json);
        printer.event(&done(false)).unwrap();
        write!(printer.text(), "    tiny: pull").unwrap();
        writeln!(printer.text(), "ing 50%\r").unwrap();
        printer
            .event(&Event::Applied {
                generation: 2,
                staged_services: 0,
            })
            .unwrap();
        let text = String::from_utf8(printer.get_mut().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                serde_json::json!({"event": "done", "step": 3, "address": "file box:/etc/x", "change": "create", "staged": false}),
                serde_json::json!({"event": "progress", "message": "    tiny: pulling 50%"}),
                serde_json::json!({"event": "applied", "generation": 2, "staged_services": 0}),
            ]
        );
    }
}
