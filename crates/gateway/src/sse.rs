//! An incremental parser for `text/event-stream` (the subset OpenAI uses: `data:` and
//! `event:` fields, comments, blank-line separated events, LF or CRLF line ends). Bytes go
//! in as they arrive from the network; whole events come out. No IO. Written here rather
//! than taken from a crate because the gateway needs it synchronous and allocation-light,
//! and it is 80 lines.

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when given.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// The stream broke the format: a line that is not UTF-8 or an event over the size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseError(pub String);

/// Feeds bytes, yields events.
#[derive(Debug)]
pub struct SseParser {
    buf: Vec<u8>,
    scanned: usize,
    event: Option<String>,
    data: String,
    has_data: bool,
    max_event_bytes: usize,
}

impl SseParser {
    pub fn new(max_event_bytes: usize) -> SseParser {
        SseParser {
            buf: Vec::new(),
            scanned: 0,
            event: None,
            data: String::new(),
            has_data: false,
            max_event_bytes,
        }
    }

    /// Appends bytes and pushes every event they complete onto `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(nl) = self.buf[self.scanned..].iter().position(|b| *b == b'\n') {
            let end = self.scanned + nl;
            let mut line = &self.buf[start..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            let line = std::str::from_utf8(line)
                .map_err(|_| SseError("an event-stream line is not UTF-8".into()))?;
            if line.is_empty() {
                if self.has_data {
                    out.push(SseEvent {
                        event: self.event.take(),
                        data: std::mem::take(&mut self.data),
                    });
                }
                self.event = None;
                self.has_data = false;
            } else if !line.starts_with(':') {
                let (field, value) = match line.split_once(':') {
                    Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                    None => (line, ""),
                };
                match field {
                    "data" => {
                        if self.has_data {
                            self.data.push('\n');
                        }
                        self.data.push_str(value);
                        self.has_data = true;
                    }
                    "event" => self.event = Some(value.to_string()),
                    _ => {} // id, retry and unknown fields do not matter here
                }
                if self.data.len() > self.max_event_bytes {
                    return Err(SseError(format!(
                        "an event is larger than {} bytes",
                        self.max_event_bytes
                    )));
                }
            }
            start = end + 1;
            self.scanned = start;
        }
        if start > 0 {
            self.buf.drain(..start);
            self.scanned = 0;
        }
        self.scanned = self.buf.len();
        if self.buf.len() > self.max_event_bytes {
            return Err(SseError(format!(
                "a line is longer than {} bytes",
                self.max_event_bytes
            )));
        }
        Ok(())
    }

    /// Whether bytes of an unfinished event are buffered.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty() || self.has_data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new(1 << 20);
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn events_across_any_split() {
        let text = b"data: {\"a\":1}\n\n: comment\r\nevent: error\r\ndata: x\r\ndata: y\r\n\r\ndata: [DONE]\n\n";
        let want = vec![
            SseEvent {
                event: None,
                data: "{\"a\":1}".into(),
            },
            SseEvent {
                event: Some("error".into()),
                data: "x\ny".into(),
            },
            SseEvent {
                event: None,
                data: "[DONE]".into(),
            },
        ];
        assert_eq!(parse_all(&[text]), want);
        for cut in 0..text.len() {
            assert_eq!(parse_all(&[&text[..cut], &text[cut..]]), want, "cut {cut}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(parse_all(&bytes), want);
    }

    #[test]
    fn limits_and_bad_bytes() {
        let mut p = SseParser::new(8);
        let mut out = Vec::new();
        assert!(p.push(b"data: 0123456789\n", &mut out).is_err());
        let mut p = SseParser::new(8);
        assert!(p.push(b"data: 0123456789", &mut out).is_err());
        let mut p = SseParser::new(100);
        assert!(p.push(b"data: \xff\n", &mut out).is_err());
    }
}
