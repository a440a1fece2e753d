//! Model-name normalisation: provider prefixes, cloud wrappers, date and version
//! suffixes, and dotted Claude versions all map to one canonical id.

/// Canonical form of a model name, for price lookup.
///
/// ```
/// use tracecard_core::cost::normalize_model;
/// assert_eq!(normalize_model("anthropic/claude-3-5-sonnet-20241022"), "claude-3-5-sonnet");
/// assert_eq!(normalize_model("us.anthropic.claude-sonnet-4-20250514-v1:0"), "claude-sonnet-4");
/// assert_eq!(normalize_model("claude-opus-4.1"), "claude-opus-4-1");
/// assert_eq!(normalize_model("gpt-4.1-mini-2025-04-14"), "gpt-4.1-mini");
/// assert_eq!(normalize_model("models/gemini-2.5-pro"), "gemini-2.5-pro");
/// assert_eq!(normalize_model("Sonnet"), "sonnet");
/// ```
pub fn normalize_model(name: &str) -> String {
    let mut s = name.trim().to_lowercase();
    // Provider / router prefixes: keep the last path segment.
    if let Some(i) = s.rfind('/') {
        s = s[i + 1..].to_owned();
    }
    // Vertex `claude-3-5-sonnet-v2@20241022`: drop the `@…` revision.
    if let Some(i) = s.find('@') {
        s.truncate(i);
    }
    // Bedrock `us.anthropic.claude-…-v1:0`.
    for region in ["us.", "eu.", "apac.", "global.", "jp.", "au."] {
        if let Some(rest) = s.strip_prefix(region) {
            if rest.starts_with("anthropic.")
                || rest.starts_with("meta.")
                || rest.starts_with("amazon.")
            {
                s = rest.to_owned();
            }
        }
    }
    for vendor in ["anthropic.", "openai.", "google.", "deepseek."] {
        if let Some(rest) = s.strip_prefix(vendor) {
            s = rest.to_owned();
        }
    }
    // `-v1:0`, `:0`
    if let Some(i) = s.find(':') {
        s.truncate(i);
    }
    strip_suffix_version(&mut s);
    strip_date_suffix(&mut s);
    for suffix in ["-latest", "-thinking"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest.to_owned();
        }
    }
    strip_date_suffix(&mut s);
    if s.starts_with("claude") {
        s = s.replace('.', "-");
    }
    s
}

fn strip_suffix_version(s: &mut String) {
    // `-v1`, `-v2` at the very end (Bedrock); keep names whose version is the point
    if let Some(i) = s.rfind("-v") {
        let tail = &s[i + 2..];
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) && s.starts_with("claude") {
            s.truncate(i);
        }
    }
}

fn strip_date_suffix(s: &mut String) {
    let b = s.as_bytes();
    let is_digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    // -YYYYMMDD
    if b.len() > 9
        && b[b.len() - 9] == b'-'
        && is_digits(&b[b.len() - 8..])
        && b[b.len() - 8] == b'2'
    {
        s.truncate(b.len() - 9);
        return;
    }
    // -YYYY-MM-DD
    if b.len() > 11
        && b[b.len() - 11] == b'-'
        && is_digits(&b[b.len() - 10..b.len() - 6])
        && b[b.len() - 6] == b'-'
        && is_digits(&b[b.len() - 5..b.len() - 3])
        && b[b.len() - 3] == b'-'
        && is_digits(&b[b.len() - 2..])
    {
        s.truncate(b.len() - 11);
        return;
    }
    // OpenAI `-0613`, `-1106`-style snapshot suffixes on gpt-3.5/4 (but not `-preview`)
    if s.starts_with("gpt-")
        && b.len() > 5
        && b[b.len() - 5] == b'-'
        && is_digits(&b[b.len() - 4..])
    {
        s.truncate(b.len() - 5);
    }
}
