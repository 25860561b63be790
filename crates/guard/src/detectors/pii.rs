//! PII detection with validation.
//!
//! Candidates come from linear-time regexes and are then validated: payment cards by Luhn,
//! IBANs by ISO 7064 mod-97 and country length, US SSNs by area/group/serial rules, IPs by
//! parsing, Spanish DNI/NIE by their mod-23 letter, Finnish HETU by its mod-31 character and
//! Dutch BSN by the 11-test. Context words in a short window *before* a candidate may raise its
//! score (whole-word matches only, so "public" never boosts a licence number). Overlapping
//! candidates keep the highest score.

use regex::{Regex, RegexSet};
use serde::Deserialize;

use super::{Detector, Hit, Subject};
use crate::normalize::Origin;

/// Options of the `pii` detector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiiOptions {
    /// Entity types to report (default: all). See [`PiiType`] names.
    #[serde(default)]
    pub types: Option<Vec<String>>,
    /// How much a context word raises a candidate's score.
    #[serde(default = "default_boost")]
    pub context_boost: f32,
    /// How many bytes before a candidate are searched for context words.
    #[serde(default = "default_window")]
    pub context_window: usize,
}

fn default_boost() -> f32 {
    0.35
}
fn default_window() -> usize {
    48
}

impl Default for PiiOptions {
    fn default() -> Self {
        PiiOptions {
            types: None,
            context_boost: default_boost(),
            context_window: default_window(),
        }
    }
}

/// Entity types of the PII detector.
pub const PII_TYPES: &[&str] = &[
    "email",
    "phone",
    "credit_card",
    "iban",
    "us_ssn",
    "ip_address",
    "es_dni",
    "fi_hetu",
    "nl_bsn",
];

/// The PII detector.
#[derive(Debug)]
pub struct Pii {
    enabled: Vec<bool>,
    boost: f32,
    window: usize,
    email: Regex,
    card: Regex,
    iban: Regex,
    ssn: Regex,
    ipv4: Regex,
    ipv6: Regex,
    phone: Regex,
    nanp: Regex,
    dni: Regex,
    hetu: Regex,
    bsn: Regex,
    words: Regex,
    /// One pass over the text tells which candidate patterns can match at all.
    set: RegexSet,
}

const P_EMAIL: &str = r"(?i-u)\b[a-z0-9][a-z0-9._%+\-]{0,63}@[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?)*\.[a-z]{2,24}\b";
const P_CARD: &str = r"(?-u)\b\d(?:[ \-]?\d){11,18}\b";
const P_IBAN: &str = r"(?i-u)\b[a-z]{2}\d{2}(?:[ ]?[a-z0-9]){11,30}\b";
const P_SSN: &str = r"(?-u)\b(\d{3})([\- ]?)(\d{2})([\- ]?)(\d{4})\b";
const P_IPV4: &str =
    r"(?-u)\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b";
const P_IPV6: &str = r"(?i-u)(?:[0-9a-f]{1,4}:){2,7}(?::|[0-9a-f]{1,4})(?::[0-9a-f]{1,4}){0,6}|::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4}";
const P_PHONE: &str =
    r"(?i-u)(?:\+|\b00|\()?\d[\d \t().\-]{4,20}\d(?:[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,5})?\b";
const P_NANP: &str = r"(?-u)^(?:\+?1[ .\-]?)?(?:\(\d{3}\)[ .\-]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}";
const P_DNI: &str = r"(?i-u)\b([xyz]?)(\d{7,8})[ \-]?([a-z])\b";
const P_HETU: &str = r"(?i-u)\b(\d{6})([+\-a-fu-y])(\d{3})([0-9a-y])\b";
const P_BSN: &str = r"(?-u)\b\d{9}\b";

/// Patterns of the one-pass prefilter, in the order of `SET_*` indices.
const SET_PATTERNS: &[&str] = &[
    P_EMAIL, P_CARD, P_IBAN, P_SSN, P_IPV4, P_IPV6, P_PHONE, P_DNI, P_HETU, P_BSN,
];
const SET_EMAIL: usize = 0;
const SET_CARD: usize = 1;
const SET_IBAN: usize = 2;
const SET_SSN: usize = 3;
const SET_IPV4: usize = 4;
const SET_IPV6: usize = 5;
const SET_PHONE: usize = 6;
const SET_DNI: usize = 7;
const SET_HETU: usize = 8;
const SET_BSN: usize = 9;

fn re(p: &str) -> Regex {
    Regex::new(p).expect("built-in PII pattern compiles")
}

impl Pii {
    /// Builds the detector; unknown type names are rejected with their path.
    pub fn new(opts: PiiOptions, path: &str) -> crate::Result<Self> {
        let mut enabled = vec![true; PII_TYPES.len()];
        if let Some(types) = &opts.types {
            enabled = vec![false; PII_TYPES.len()];
            for (i, t) in types.iter().enumerate() {
                match PII_TYPES.iter().position(|p| p == t) {
                    Some(k) => enabled[k] = true,
                    None => {
                        return Err(crate::GuardError::policy(
                            format!("{path}.types[{i}]"),
                            format!("unknown PII type `{t}` (known: {})", PII_TYPES.join(", ")),
                        ))
                    }
                }
            }
        }
        if !(0.0..=1.0).contains(&opts.context_boost) {
            return Err(crate::GuardError::policy(
                format!("{path}.context_boost"),
                "must be between 0 and 1",
            ));
        }
        Ok(Pii {
            enabled,
            boost: opts.context_boost,
            window: opts.context_window.min(256),
            email: re(P_EMAIL),
            card: re(P_CARD),
            iban: re(P_IBAN),
            ssn: re(P_SSN),
            ipv4: re(P_IPV4),
            ipv6: re(P_IPV6),
            phone: re(P_PHONE),
            nanp: re(P_NANP),
            dni: re(P_DNI),
            hetu: re(P_HETU),
            bsn: re(P_BSN),
            set: RegexSet::new(SET_PATTERNS).expect("built-in PII patterns compile"),
            words: re(r"[a-z]+"),
        })
    }

    fn on(&self, t: &str) -> bool {
        PII_TYPES
            .iter()
            .position(|p| *p == t)
            .is_some_and(|i| self.enabled[i])
    }

    /// Whether one of `words` occurs as a whole word just before `start`.
    fn context(&self, lower: &str, start: usize, words: &[&str]) -> bool {
        let from = super::floor_boundary(lower, start.saturating_sub(self.window));
        let before = &lower[from..super::floor_boundary(lower, start)];
        self.words
            .find_iter(before)
            .any(|m| words.contains(&m.as_str()))
    }

    fn scan_segment(&self, si: usize, text: &str, out: &mut Vec<Hit>) {
        let found = self.set.matches(text);
        if !found.matched_any() {
            return;
        }
        let lower = super::ascii_lower(text);
        let mut cands: Vec<Hit> = Vec::new();
        if self.on("email") && text.contains('@') && found.matched(SET_EMAIL) {
            for m in self.email.find_iter(text) {
                cands.push(Hit::seg("email", "pii.email", si, m.start(), m.end(), 0.95));
            }
        }
        if self.on("credit_card") && found.matched(SET_CARD) {
            for m in self.card.find_iter(text) {
                let digits: Vec<u8> = m
                    .as_str()
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .map(|b| b - b'0')
                    .collect();
                if !(12..=19).contains(&digits.len()) {
                    continue;
                }
                let ctx = self.context(&lower, m.start(), CARD_WORDS);
                let score = if luhn_valid(&digits) {
                    if ctx {
                        0.95
                    } else {
                        0.8
                    }
                } else if ctx {
                    0.35 + self.boost
                } else {
                    0.2
                };
                cands.push(Hit::seg(
                    "credit_card",
                    if luhn_valid(&digits) {
                        "pii.card.luhn"
                    } else {
                        "pii.card.context"
                    },
                    si,
                    m.start(),
                    m.end(),
                    score,
                ));
            }
        }
        if self.on("iban") && found.matched(SET_IBAN) {
            for m in self.iban.find_iter(text) {
                if iban_valid(m.as_str()) {
                    cands.push(Hit::seg(
                        "iban",
                        "pii.iban.mod97",
                        si,
                        m.start(),
                        m.end(),
                        0.95,
                    ));
                }
            }
        }
        if self.on("us_ssn") && found.matched(SET_SSN) {
            for c in self.ssn.captures_iter(text) {
                let m = c.get(0).map(|m| (m.start(), m.end())).unwrap_or((0, 0));
                let sep1 = c.get(2).map_or("", |x| x.as_str());
                let sep2 = c.get(4).map_or("", |x| x.as_str());
                if sep1 != sep2 {
                    continue;
                }
                let (a, g, s) = (&c[1], &c[3], &c[5]);
                if !ssn_valid(a, g, s) {
                    continue;
                }
                let ctx = self.context(&lower, m.0, SSN_WORDS);
                let base = if sep1 == "-" { 0.6 } else { 0.25 };
                let score = if ctx {
                    (base + self.boost + 0.1).min(1.0)
                } else {
                    base
                };
                cands.push(Hit::seg("us_ssn", "pii.ssn.rules", si, m.0, m.1, score));
            }
        }
        if self.on("ip_address") {
            for m in self
                .ipv4
                .find_iter(text)
                .filter(|_| found.matched(SET_IPV4))
            {
                // Not part of a longer dotted number (e.g. a version "1.2.3.4.5").
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                if matches!(before, Some('.'))
                    || matches!(after, Some('.'))
                        && text[m.end() + 1..].starts_with(|c: char| c.is_ascii_digit())
                {
                    continue;
                }
                // A version number written like an address: "version 4.1.1.1",
                // "firmware 10.2.0.1".
                if preceding_word(&lower, m.start()).is_some_and(|w| VERSION_WORDS.contains(&w)) {
                    continue;
                }
                let ctx = self.context(&lower, m.start(), IP_WORDS);
                cands.push(Hit::seg(
                    "ip_address",
                    "pii.ip.v4",
                    si,
                    m.start(),
                    m.end(),
                    if ctx { 0.95 } else { 0.75 },
                ));
            }
            if found.matched(SET_IPV6) {
                for m in self.ipv6.find_iter(text) {
                    if m.as_str().parse::<std::net::Ipv6Addr>().is_ok()
                        && m.as_str().matches(':').count() >= 2
                    {
                        let ctx = self.context(&lower, m.start(), IP_WORDS);
                        cands.push(Hit::seg(
                            "ip_address",
                            "pii.ip.v6",
                            si,
                            m.start(),
                            m.end(),
                            if ctx { 0.95 } else { 0.7 },
                        ));
                    }
                }
            }
        }
        if self.on("phone") && found.matched(SET_PHONE) {
            for m in self.phone.find_iter(text) {
                let s = m.as_str();
                let main = s.split(['x', 'X', 'e']).next().unwrap_or(s);
                let digits = main.bytes().filter(u8::is_ascii_digit).count();
                if !(7..=15).contains(&digits) {
                    continue;
                }
                // Reject dates and times such as 2024-01-31 or 12.05.2023.
                if looks_like_date(main) {
                    continue;
                }
                let intl = s.starts_with('+') || s.starts_with("00");
                let base = if intl || self.nanp.is_match(s) {
                    0.6
                } else {
                    0.3
                };
                let ctx = self.context(&lower, m.start(), PHONE_WORDS)
                    && !self.context(&lower, m.start(), NOT_PHONE_WORDS);
                let score = if ctx {
                    (base + self.boost).min(0.95)
                } else {
                    base
                };
                cands.push(Hit::seg(
                    "phone",
                    "pii.phone",
                    si,
                    m.start(),
                    m.end(),
                    score,
                ));
            }
        }
        if self.on("es_dni") && found.matched(SET_DNI) {
            for c in self.dni.captures_iter(text) {
                let m = c.get(0).map(|m| (m.start(), m.end())).unwrap_or((0, 0));
                if dni_valid(&c[1], &c[2], &c[3]) {
                    cands.push(Hit::seg("es_dni", "pii.es_dni.mod23", si, m.0, m.1, 0.85));
                }
            }
        }
        if self.on("fi_hetu") && found.matched(SET_HETU) {
            for c in self.hetu.captures_iter(text) {
                let m = c.get(0).map(|m| (m.start(), m.end())).unwrap_or((0, 0));
                if hetu_valid(&c[1], &c[3], &c[4]) {
                    cands.push(Hit::seg("fi_hetu", "pii.fi_hetu.mod31", si, m.0, m.1, 0.85));
                }
            }
        }
        if self.on("nl_bsn") && found.matched(SET_BSN) {
            for m in self.bsn.find_iter(text) {
                if bsn_valid(m.as_str()) && self.context(&lower, m.start(), BSN_WORDS) {
                    cands.push(Hit::seg(
                        "nl_bsn",
                        "pii.nl_bsn.elfproef",
                        si,
                        m.start(),
                        m.end(),
                        0.8,
                    ));
                }
            }
        }
        resolve_overlaps(&mut cands);
        out.extend(cands);
    }
}

const CARD_WORDS: &[&str] = &[
    "card",
    "cc",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "amex",
    "cvv",
    "pan",
    "payment",
];
const SSN_WORDS: &[&str] = &["ssn", "social", "security", "ssns", "taxpayer"];
const IP_WORDS: &[&str] = &["ip", "address", "host", "server", "addr"];
/// Words that, right before a dotted quad, make it a version rather than an address.
const VERSION_WORDS: &[&str] = &[
    "version", "ver", "release", "build", "firmware", "patch", "revision", "rev",
];

/// The word right before `start`, past spaces and a `:`, `=` or `#` (lower-case ASCII text).
fn preceding_word(lower: &str, start: usize) -> Option<&str> {
    let head = lower
        .get(..start)?
        .trim_end_matches([' ', '\t', ':', '=', '#']);
    let word_start = head
        .rfind(|c: char| !c.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    let word = &head[word_start..];
    (!word.is_empty()).then_some(word)
}
const PHONE_WORDS: &[&str] = &[
    "phone",
    "phones",
    "tel",
    "telephone",
    "mobile",
    "cell",
    "cellphone",
    "fax",
    "desk",
    "call",
    "calling",
    "contact",
    "reach",
    "text",
    "sms",
    "whatsapp",
    "answering",
    "message",
    "messages",
    "dial",
    "ring",
    "landline",
    "hotline",
    "extension",
];
/// Words that say a nearby number is some other identifier, so it is not boosted as a phone.
const NOT_PHONE_WORDS: &[&str] = &[
    "license", "licence", "passport", "account", "order", "invoice", "ticket", "policy", "serial",
    "tracking", "isbn", "id",
];
const BSN_WORDS: &[&str] = &["bsn", "burgerservicenummer", "sofinummer"];

/// Keeps, among overlapping candidates, the one with the highest score, in text order.
fn resolve_overlaps(c: &mut Vec<Hit>) {
    super::keep_best_non_overlapping(c);
    c.sort_by_key(|h| span(h).0);
}

fn span(h: &Hit) -> (usize, usize) {
    match h.loc {
        super::Loc::Seg { start, end, .. } => (start, end),
        super::Loc::Original { start, end } => (start, end),
        super::Loc::Whole => (0, 0),
    }
}

fn looks_like_date(s: &str) -> bool {
    let parts: Vec<&str> = s
        .split(['-', '.', '/', ' '])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return false;
    }
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    let num = |p: &str| p.parse::<u32>().unwrap_or(0);
    match lens.as_slice() {
        [4, 2, 2] => num(parts[1]) <= 12 && num(parts[2]) <= 31,
        [2, 2, 4] | [1, 2, 4] | [2, 1, 4] | [1, 1, 4] => {
            num(parts[0]) <= 31 && num(parts[1]) <= 31 && (1900..2100).contains(&num(parts[2]))
        }
        _ => false,
    }
}

/// Luhn check over decimal digits (values 0..=9).
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.len() < 2 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Length of the IBAN for a country, for the countries in the ISO 13616 registry we know.
fn iban_length(cc: &str) -> Option<usize> {
    Some(match cc {
        "AD" => 24,
        "AE" => 23,
        "AL" => 28,
        "AT" => 20,
        "AZ" => 28,
        "BA" => 20,
        "BE" => 16,
        "BG" => 22,
        "BH" => 22,
        "BR" => 29,
        "CH" => 21,
        "CR" => 22,
        "CY" => 28,
        "CZ" => 24,
        "DE" => 22,
        "DK" => 18,
        "DO" => 28,
        "EE" => 20,
        "EG" => 29,
        "ES" => 24,
        "FI" => 18,
        "FO" => 18,
        "FR" => 27,
        "GB" => 22,
        "GE" => 22,
        "GI" => 23,
        "GL" => 18,
        "GR" => 27,
        "GT" => 28,
        "HR" => 21,
        "HU" => 28,
        "IE" => 22,
        "IL" => 23,
        "IS" => 26,
        "IT" => 27,
        "JO" => 30,
        "KW" => 30,
        "KZ" => 20,
        "LB" => 28,
        "LI" => 21,
        "LT" => 20,
        "LU" => 20,
        "LV" => 21,
        "MC" => 27,
        "MD" => 24,
        "ME" => 22,
        "MK" => 19,
        "MR" => 27,
        "MT" => 31,
        "MU" => 30,
        "NL" => 18,
        "NO" => 15,
        "PK" => 24,
        "PL" => 28,
        "PS" => 29,
        "PT" => 25,
        "QA" => 29,
        "RO" => 24,
        "RS" => 22,
        "SA" => 24,
        "SE" => 24,
        "SI" => 19,
        "SK" => 24,
        "SM" => 27,
        "TN" => 24,
        "TR" => 26,
        "UA" => 29,
        "VG" => 24,
        "XK" => 20,
        _ => return None,
    })
}

/// IBAN validation: known country, its length, and ISO 7064 mod-97 == 1. Spaces are ignored.
pub fn iban_valid(s: &str) -> bool {
    let s: String = s
        .chars()
        .filter(|c| *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    if s.len() < 15 || !s.is_ascii() || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    match iban_length(&s[..2]) {
        Some(n) if n == s.len() => {}
        _ => return false,
    }
    let rearranged = s[4..].bytes().chain(s[..4].bytes());
    let mut rem: u32 = 0;
    for b in rearranged {
        let v = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// US SSN structural rules: area not 000, 666 or 900-999; group not 00; serial not 0000.
pub fn ssn_valid(area: &str, group: &str, serial: &str) -> bool {
    let a: u32 = area.parse().unwrap_or(0);
    let g: u32 = group.parse().unwrap_or(0);
    let s: u32 = serial.parse().unwrap_or(0);
    a != 0 && a != 666 && a < 900 && g != 0 && s != 0
}

/// Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter): mod-23 control letter.
pub fn dni_valid(prefix: &str, digits: &str, letter: &str) -> bool {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let lead = match prefix.to_ascii_uppercase().as_str() {
        "" if digits.len() == 8 => "",
        "X" if digits.len() == 7 => "0",
        "Y" if digits.len() == 7 => "1",
        "Z" if digits.len() == 7 => "2",
        _ => return false,
    };
    let n: u64 = match format!("{lead}{digits}").parse() {
        Ok(n) => n,
        Err(_) => return false,
    };
    let expected = LETTERS[(n % 23) as usize];
    letter.len() == 1 && letter.as_bytes()[0].to_ascii_uppercase() == expected
}

/// Finnish personal identity code: DDMMYY, century sign, NNN, control character (mod 31).
pub fn hetu_valid(date: &str, num: &str, control: &str) -> bool {
    const CHARS: &[u8] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    let dd: u32 = date[0..2].parse().unwrap_or(0);
    let mm: u32 = date[2..4].parse().unwrap_or(0);
    if !(1..=31).contains(&dd) || !(1..=12).contains(&mm) {
        return false;
    }
    let n: u64 = match format!("{date}{num}").parse() {
        Ok(n) => n,
        Err(_) => return false,
    };
    control.len() == 1 && control.as_bytes()[0].to_ascii_uppercase() == CHARS[(n % 31) as usize]
}

/// Dutch BSN "elfproef": 9 digits, weighted sum (9..2, -1) divisible by 11.
pub fn bsn_valid(s: &str) -> bool {
    let d: Vec<i64> = s
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| i64::from(b - b'0'))
        .collect();
    if d.len() != 9 || d.iter().all(|x| *x == 0) {
        return false;
    }
    let sum: i64 = (0..8).map(|i| d[i] * (9 - i as i64)).sum::<i64>() - d[8];
    sum % 11 == 0
}

impl Detector for Pii {
    fn name(&self) -> &'static str {
        "pii"
    }

    fn scan(&self, subject: &Subject<'_>, out: &mut Vec<Hit>) {
        for (si, seg) in subject.text.segments.iter().enumerate() {
            // PII is reported on the visible text and on smuggled text, not inside decoded blobs.
            if matches!(seg.origin, Origin::Decoded { .. }) {
                continue;
            }
            self.scan_segment(si, &seg.text, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{prepare, NormalizeOptions};
    use proptest::prelude::*;

    fn found(text: &str) -> Vec<(String, String, f32)> {
        let d = Pii::new(PiiOptions::default(), "p").unwrap();
        let t = prepare(text, &NormalizeOptions::default());
        let mut out = Vec::new();
        d.scan(
            &Subject {
                original: text,
                text: &t,
                tool: None,
                reference: None,
            },
            &mut out,
        );
        out.into_iter()
            .map(|h| {
                let (s, e) = span(&h);
                (
                    h.category.into_owned(),
                    t.segments[0].text[s..e].to_string(),
                    h.score,
                )
            })
            .collect()
    }

    fn has(text: &str, cat: &str, value: &str) -> bool {
        found(text)
            .iter()
            .any(|(c, v, s)| c == cat && v == value && *s >= 0.5)
    }

    #[test]
    fn finds_structured_pii() {
        assert!(has(
            "mail me at jane.doe@example.org please",
            "email",
            "jane.doe@example.org"
        ));
        assert!(has(
            "my card 4111 1111 1111 1111 expires",
            "credit_card",
            "4111 1111 1111 1111"
        ));
        assert!(has(
            "IBAN: GB82 WEST 1234 5698 7654 32",
            "iban",
            "GB82 WEST 1234 5698 7654 32"
        ));
        assert!(has("His SSN is 123-45-6789.", "us_ssn", "123-45-6789"));
        assert!(has(
            "server at 192.168.10.1 is down",
            "ip_address",
            "192.168.10.1"
        ));
        assert!(has(
            "call me on +44 20 7946 0958",
            "phone",
            "+44 20 7946 0958"
        ));
        assert!(has("Phone: 0490 75 40 81", "phone", "0490 75 40 81"));
        assert!(has("DNI 12345678Z", "es_dni", "12345678Z"));
        assert!(has("HETU 131052-308T", "fi_hetu", "131052-308T"));
        assert!(has("mijn BSN is 111222333", "nl_bsn", "111222333"));
    }

    #[test]
    fn rejects_invalid_or_uncontextual_numbers() {
        assert!(!has(
            "order 4111 1111 1111 1112 shipped",
            "credit_card",
            "4111 1111 1111 1112"
        ));
        assert!(!has("SSN 666-12-3456", "us_ssn", "666-12-3456"));
        assert!(!has(
            "GB82 WEST 1234 5698 7654 33",
            "iban",
            "GB82 WEST 1234 5698 7654 33"
        ));
        assert!(found("released on 2024-01-31 as version 1.2.3")
            .iter()
            .all(|(c, _, s)| c != "phone" || *s < 0.5));
        assert!(!has("I have 1234567 apples", "phone", "1234567"));
        assert!(!has(
            "my driver's license number is 6940579",
            "phone",
            "6940579"
        ));
        assert!(has(
            "send any message to 0961-7596216",
            "phone",
            "0961-7596216"
        ));
        assert!(!has("version 1.2.3.4.5", "ip_address", "1.2.3.4"));
        // Version numbers written like addresses are not addresses; addresses still are.
        assert!(!has(
            "Please upgrade to version 4.1.1.1 today",
            "ip_address",
            "4.1.1.1"
        ));
        assert!(!has(
            "firmware: 10.2.0.1 fixes it",
            "ip_address",
            "10.2.0.1"
        ));
        assert!(has(
            "the server at 10.2.0.1 runs release 4.1.1.1",
            "ip_address",
            "10.2.0.1"
        ));
        assert!(!has(
            "the server at 10.2.0.1 runs release 4.1.1.1",
            "ip_address",
            "4.1.1.1"
        ));
        assert!(has("connect to 192.168.1.20", "ip_address", "192.168.1.20"));
    }

    #[test]
    fn luhn_known_values() {
        let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        assert!(luhn_valid(&d("79927398713")));
        assert!(!luhn_valid(&d("79927398710")));
        assert!(luhn_valid(&d("4111111111111111")));
    }

    fn luhn_check_digit(payload: &[u8]) -> u8 {
        (0..10)
            .find(|c| {
                let mut v = payload.to_vec();
                v.push(*c);
                luhn_valid(&v)
            })
            .unwrap()
    }

    proptest! {
        #[test]
        fn luhn_detects_every_single_digit_error(payload in proptest::collection::vec(0u8..10, 11..18), pos in 0usize..18, delta in 1u8..10) {
            let mut v = payload.clone();
            v.push(luhn_check_digit(&payload));
            prop_assert!(luhn_valid(&v));
            let p = pos % v.len();
            v[p] = (v[p] + delta) % 10;
            prop_assert!(!luhn_valid(&v));
        }

        #[test]
        fn iban_mod97_detects_single_substitutions(bban in "[0-9]{18}", pos in 0usize..18, delta in 1u8..10) {
            // Build a valid GB IBAN: GBkk + 4 letters + 14 digits.
            let body = format!("WEST{}", &bban[..14]);
            let check = (2..=98).find(|k| iban_valid(&format!("GB{k:02}{body}"))).unwrap();
            let iban = format!("GB{check:02}{body}");
            prop_assert!(iban_valid(&iban));
            let mut bytes = iban.into_bytes();
            let p = 8 + pos % 14;
            bytes[p] = b'0' + (bytes[p] - b'0' + delta) % 10;
            prop_assert!(!iban_valid(std::str::from_utf8(&bytes).unwrap()));
        }

        #[test]
        fn ssn_rules_hold(a in 0u32..1000, g in 0u32..100, s in 0u32..10000) {
            let ok = ssn_valid(&format!("{a:03}"), &format!("{g:02}"), &format!("{s:04}"));
            prop_assert_eq!(ok, a != 0 && a != 666 && a < 900 && g != 0 && s != 0);
        }

        #[test]
        fn pii_spans_are_char_boundaries(s in "\\PC{0,64}") {
            let d = Pii::new(PiiOptions::default(), "p").unwrap();
            let t = prepare(&s, &NormalizeOptions::default());
            let mut out = Vec::new();
            d.scan(&Subject { original: &s, text: &t, tool: None, reference: None }, &mut out);
            for h in out {
                let (a, b) = span(&h);
                prop_assert!(t.segments[0].text.is_char_boundary(a) && t.segments[0].text.is_char_boundary(b));
            }
        }
    }
}
