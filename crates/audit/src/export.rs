//! Streaming export (JSON Lines, CSV), reading JSON Lines back, and the record filter shared
//! by the store's query and the exporter.

use std::borrow::Borrow;
use std::fmt;
use std::io::{self, BufRead, Write};
use std::str::FromStr;

use crate::AuditError;
use crate::canonical::write_canonical_value;
use crate::record::{AuditEvent, AuditRecord, Outcome};

/// Which records a query or an export keeps. Every set field must match.
///
/// `since` is inclusive and `until` exclusive (Unix ms), so consecutive windows do not
/// overlap. `actor` is the actor id, exactly. `action` is exact (`auth.sign_in`) or, ending in
/// `*`, a prefix (`auth.*`, `token*`). `target_prefix` is a plain prefix.
///
/// An export filtered by anything but time is a selection, not a chain: it cannot be
/// verified again (its records have gaps). A time window of the log verifies with
/// [`crate::verify_segment`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target_prefix: Option<String>,
    pub outcome: Option<Outcome>,
}

impl Filter {
    /// Whether `event` passes.
    pub fn matches(&self, event: &AuditEvent) -> bool {
        self.since.is_none_or(|t| event.time_ms >= t)
            && self.until.is_none_or(|t| event.time_ms < t)
            && self.actor.as_deref().is_none_or(|a| event.actor.id == a)
            && self
                .action
                .as_deref()
                .is_none_or(|a| match a.strip_suffix('*') {
                    Some(prefix) => event.action.starts_with(prefix),
                    None => event.action == a,
                })
            && self
                .target_prefix
                .as_deref()
                .is_none_or(|p| event.target.starts_with(p))
            && self.outcome.is_none_or(|o| event.outcome == o)
    }

    /// Whether only time is filtered (so the result is a contiguous window of the chain, as
    /// long as record times follow seq).
    pub fn is_time_window(&self) -> bool {
        self.actor.is_none()
            && self.action.is_none()
            && self.target_prefix.is_none()
            && self.outcome.is_none()
    }
}

/// Export formats (`pave audit export -o jsonl|csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One record per line, with seq and hashes: verifiable again.
    Jsonl,
    /// RFC 4180, header row, details as compact JSON in one column.
    Csv,
}

impl FromStr for Format {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jsonl" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            _ => Err(AuditError::Unknown {
                what: "export format",
                value: s.to_owned(),
                expected: "jsonl, csv",
            }),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        })
    }
}

/// The audit CSV's columns.
pub const AUDIT_CSV_HEADER: [&str; 13] = [
    "seq",
    "time",
    "actor_kind",
    "actor_id",
    "actor_role",
    "action",
    "target",
    "outcome",
    "source",
    "request_id",
    "details",
    "prev_hash",
    "hash",
];

/// Writes records one at a time in either format, through one reused line buffer.
pub struct Exporter<W: Write> {
    out: W,
    format: Format,
    line: Vec<u8>,
    count: u64,
}

impl<W: Write> Exporter<W> {
    /// Starts an export (the CSV header is written now).
    pub fn new(mut out: W, format: Format) -> Result<Self, AuditError> {
        if format == Format::Csv {
            let mut line = Vec::new();
            csv_row(&mut line, AUDIT_CSV_HEADER.iter().copied());
            out.write_all(&line)?;
        }
        Ok(Exporter {
            out,
            format,
            line: Vec::with_capacity(1024),
            count: 0,
        })
    }

    pub fn write(&mut self, record: &AuditRecord) -> Result<(), AuditError> {
        self.line.clear();
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.line, record)
                    .map_err(|e| AuditError::Io(io::Error::other(e)))?;
                self.line.push(b'\n');
            }
            Format::Csv => audit_csv_row(&mut self.line, record),
        }
        self.out.write_all(&self.line)?;
        self.count += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flushes and gives the writer back.
    pub fn finish(mut self) -> Result<W, AuditError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Streams `records` that pass `filter` to `out`; returns how many were written. A source
/// error stops the export with [`AuditError::Source`].
pub fn export<W, I, R, E>(
    out: W,
    format: Format,
    records: I,
    filter: &Filter,
) -> Result<u64, AuditError>
where
    W: Write,
    I: IntoIterator<Item = Result<R, E>>,
    R: Borrow<AuditRecord>,
    E: fmt::Display,
{
    let mut exporter = Exporter::new(out, format)?;
    for record in records {
        let record = record.map_err(|e| AuditError::Source(e.to_string()))?;
        let record = record.borrow();
        if filter.matches(&record.event) {
            exporter.write(record)?;
        }
    }
    let count = exporter.count();
    exporter.finish()?;
    Ok(count)
}

fn audit_csv_row(line: &mut Vec<u8>, r: &AuditRecord) {
    let e = &r.event;
    let mut details = Vec::with_capacity(128);
    // Sorted keys: the same text whatever order the database returned.
    write_canonical_value(&mut details, &e.details);
    let seq = r.seq.to_string();
    let time = format_time_ms(e.time_ms);
    let (prev, hash) = (r.prev_hash.to_hex(), r.hash.to_hex());
    csv_row(
        line,
        [
            seq.as_str(),
            &time,
            e.actor.kind.as_str(),
            &e.actor.id,
            e.actor.role.as_deref().unwrap_or(""),
            &e.action,
            &e.target,
            e.outcome.as_str(),
            e.source.as_deref().unwrap_or(""),
            e.request_id.as_deref().unwrap_or(""),
            // Canonical JSON is UTF-8.
            std::str::from_utf8(&details).unwrap_or_default(),
            &prev,
            &hash,
        ],
    );
}

/// Appends one CSV field: quoted (RFC 4180) when it holds a comma, a quote, CR or LF, with
/// quotes doubled.
pub fn csv_field(line: &mut Vec<u8>, field: &str) {
    if field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        line.push(b'"');
        for part in field.split('"').enumerate() {
            if part.0 > 0 {
                line.extend_from_slice(b"\"\"");
            }
            line.extend_from_slice(part.1.as_bytes());
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(field.as_bytes());
    }
}

/// Appends one CSV row ending in CRLF, as RFC 4180 says.
pub fn csv_row<'a>(line: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a str>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        csv_field(line, f);
    }
    line.extend_from_slice(b"\r\n");
}

/// A CSV table writer (the evidence pack's reports): header first, then rows.
pub struct CsvWriter<W: Write> {
    out: W,
    line: Vec<u8>,
    columns: usize,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(mut out: W, header: &[&str]) -> io::Result<Self> {
        let mut line = Vec::with_capacity(256);
        csv_row(&mut line, header.iter().copied());
        out.write_all(&line)?;
        Ok(CsvWriter {
            out,
            line,
            columns: header.len(),
        })
    }

    /// One row; it must have as many fields as the header.
    pub fn row(&mut self, fields: &[&str]) -> io::Result<()> {
        if fields.len() != self.columns {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a CSV row of {} fields under a header of {}",
                    fields.len(),
                    self.columns
                ),
            ));
        }
        self.line.clear();
        csv_row(&mut self.line, fields.iter().copied());
        self.out.write_all(&self.line)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds: `2026-01-01T00:00:00.000Z`.
pub fn format_time_ms(ms: i64) -> String {
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = pave_stdx::time::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Reads a JSON Lines export back, record by record (blank lines are skipped). Errors carry
/// the 1-based line number.
pub fn read_jsonl<R: BufRead>(input: R) -> JsonlReader<R> {
    JsonlReader {
        input,
        line: String::new(),
        number: 0,
        failed: false,
    }
}

/// The iterator [`read_jsonl`] returns. It ends after the first error.
pub struct JsonlReader<R> {
    input: R,
    line: String,
    number: u64,
    failed: bool,
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Result<AuditRecord, AuditError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            self.line.clear();
            self.number += 1;
            let fail = |failed: &mut bool, line, message: String| {
                *failed = true;
                Some(Err(AuditError::Line { line, message }))
            };
            match self.input.read_line(&mut self.line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return fail(&mut self.failed, self.number, e.to_string()),
            }
            let text = self.line.trim();
            if text.is_empty() {
                continue;
            }
            return match serde_json::from_str(text) {
                Ok(record) => Some(Ok(record)),
                Err(e) => fail(&mut self.failed, self.number, e.to_string()),
            };
        }
    }
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
