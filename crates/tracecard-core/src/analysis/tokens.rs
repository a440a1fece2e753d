//! Distinctive-content fingerprints for the content evidence of the dataflow graph.
//!
//! A text is cut into tokens (runs of identifier, path and number characters;
//! JSON escapes such as `\n` are separators), and only *distinctive* tokens are
//! kept: identifiers with `_`, `.`, `/`, `-` or `:` inside, camelCase, numbers of
//! three or more digits, mixed letters and digits, and long plain words. Path tokens
//! also yield their components. Each kept token is hashed ([`token_hash`], 64 bit) so the
//! analysis works on integers: one pass over every text, linear in its length.

use rustc_hash::FxHashSet;

/// The 64-bit hash of a token: foldhash with fixed seeds, so the same in every
/// run and on every machine. Tokens are hashed once per occurrence in every text;
/// FNV-1a (one multiply per byte, each waiting on the last) took a tenth of a full
/// compile, foldhash reads 16 bytes at a time.
pub(crate) fn token_hash(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    const STATE: foldhash::fast::FixedState =
        foldhash::fast::FixedState::with_seed(0x7472_6163_6563_6172);
    STATE.hash_one(bytes)
}

/// Byte kinds, one table for the token scan and [`distinctive`]: a token is a run
/// of bytes of any kind (ASCII letters and digits, `_ . / - : @ # $ % + ~`, every
/// non-ASCII byte); the scan ORs the kinds of its bytes to settle plain words and
/// the shape rules without a second look. `K_DIGIT`: an ASCII digit.
const K_DIGIT: u8 = 1;
/// See [`K_DIGIT`]. (`K_LOWER << 1 == K_UPPER`: a lowercase byte followed by a
/// capital is found with one shift.)
const K_LOWER: u8 = 2;
/// See [`K_DIGIT`].
const K_UPPER: u8 = 4;
/// See [`K_DIGIT`].
const K_HIGH: u8 = 8;
/// See [`K_DIGIT`]: inner punctuation, `_ . / - : @ # $ % + ~`.
const K_PUNCT: u8 = 16;
/// `/`, `:` or `.` (also [`K_PUNCT`]): the token may have components.
const K_SEP: u8 = 32;

/// Kind of each byte (see [`K_DIGIT`]); 0: not a token byte.
const KIND: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_digit() {
            K_DIGIT
        } else if b.is_ascii_lowercase() {
            K_LOWER
        } else if b.is_ascii_uppercase() {
            K_UPPER
        } else if b >= 0x80 {
            K_HIGH
        } else if matches!(
            b,
            b'_' | b'.' | b'/' | b'-' | b':' | b'@' | b'#' | b'$' | b'%' | b'+' | b'~'
        ) {
            if matches!(b, b'/' | b':' | b'.') {
                K_PUNCT | K_SEP
            } else {
                K_PUNCT
            }
        } else {
            0
        };
        i += 1;
    }
    t
};

fn is_token_byte(b: u8) -> bool {
    KIND[usize::from(b)] != 0
}

/// Whether `tok` (already trimmed) is distinctive enough to count as evidence.
/// One branch-free pass over the bytes (this runs for many tokens of every text):
/// which kinds occur at all, which occur in every byte, which occur inside, and
/// whether a lowercase letter is followed by a capital.
pub(crate) fn distinctive(tok: &str) -> bool {
    let b = tok.as_bytes();
    let n = b.len();
    if !(2..=256).contains(&n) || (n == 2 && !b.iter().all(u8::is_ascii_digit)) {
        return false;
    }
    let (first, last) = (KIND[usize::from(b[0])], KIND[usize::from(b[n - 1])]);
    let (mut inner, mut every, mut camel, mut prev) = (0u8, first & last, 0u8, first);
    for &c in &b[1..n - 1] {
        let k = KIND[usize::from(c)];
        inner |= k;
        every &= k;
        camel |= (prev << 1) & k;
        prev = k;
    }
    camel |= (prev << 1) & last;
    let any = first | inner | last;
    if every & K_DIGIT != 0 {
        // two-digit numbers are weak evidence: see `is_weak`
        return true;
    }
    if inner & K_PUNCT != 0 {
        // `e.g`, `a.b` and the like are too short to mean anything
        return n >= 5 || any & K_DIGIT != 0;
    }
    if any & K_DIGIT != 0 && any & (K_LOWER | K_UPPER) != 0 {
        return true;
    }
    if camel & K_UPPER != 0 && n >= 5 {
        return true;
    }
    if every & K_UPPER != 0 {
        return n >= 8;
    }
    if any & K_HIGH != 0 {
        return n >= 6;
    }
    n >= 12
}

/// Weak tokens (two-digit numbers) count as evidence only when a single output
/// introduced them.
pub(crate) fn is_weak(tok: &str) -> bool {
    tok.len() == 2
}

/// Call `f` with the hash of every distinctive token of `text` (a token can repeat).
pub(crate) fn for_each_token<'a>(text: &'a str, mut f: impl FnMut(u64, &'a str)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let n = bytes.len();
    while i < n {
        // JSON / C escapes: `\n`, `\t`, `\"`, `\\`, `\u1234` are separators
        if bytes[i] == b'\\' {
            i += if i + 1 < n && bytes[i + 1] == b'u' {
                6
            } else {
                2
            };
            continue;
        }
        if !is_token_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut class = 0u8;
        while i < n && is_token_byte(bytes[i]) {
            class |= KIND[usize::from(bytes[i])];
            i += 1;
        }
        if class == K_LOWER {
            // a plain lowercase word: nothing to trim, no components, distinctive
            // only when long (the last rule of `distinctive`)
            if (12..=256).contains(&(i - start)) {
                if let Some(tok) = text.get(start..i) {
                    f(token_hash(tok.as_bytes()), tok);
                }
            }
            continue;
        }
        if i - start < 5 && class & K_DIGIT == 0 {
            // under five bytes without a digit: neither the token nor any part of it
            // is distinctive (see `distinctive`)
            continue;
        }
        let Some(raw) = text.get(start..i) else {
            continue;
        };
        // the trimmed characters are ASCII, so trimming bytes is trimming chars
        let trim = |c: u8| {
            matches!(
                c,
                b'.' | b':' | b',' | b'-' | b'/' | b'#' | b'+' | b'~' | b'@'
            )
        };
        let rb = raw.as_bytes();
        let lead = rb.iter().take_while(|&&c| trim(c)).count();
        let tail = rb[lead..].iter().rev().take_while(|&&c| trim(c)).count();
        let Some(tok) = raw.get(lead..rb.len() - tail) else {
            continue;
        };
        // a digit and a letter make any token of three bytes or more distinctive, and
        // letters alone any of twelve or more (the rules of `distinctive`, which need
        // not scan it then)
        let letters = class & (K_LOWER | K_UPPER) != 0;
        let known = if class & K_DIGIT != 0 && letters {
            tok.len() >= 3
        } else {
            class & !(K_LOWER | K_UPPER) == 0 && tok.len() >= 12
        };
        if tok.len() <= 256 && (known || distinctive(tok)) {
            f(token_hash(tok.as_bytes()), tok);
        }
        if class & K_SEP == 0 {
            // no `/`, `:` or `.`: no components
            continue;
        }
        // components of paths (`a/b.rs`), qualified names (`mod::item`, `file.py::test_x`)
        // and dotted identifiers (`self.total_amount`) count on their own too
        // path suffixes: `/repo/tests/x.py` also yields `tests/x.py`, the form a later
        // command is likely to use relative to the working directory
        if tok.contains('/') {
            let mut rest = tok;
            while let Some(k) = rest.find('/') {
                rest = &rest[k + 1..];
                if rest.contains('/') && distinctive(rest) {
                    f(token_hash(rest.as_bytes()), rest);
                }
            }
        }
        if tok.contains(['/', ':', '.']) && !tok.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            for part in tok.split(['/', ':']).filter(|p| !p.is_empty()) {
                if part.len() < tok.len() && distinctive(part) {
                    f(token_hash(part.as_bytes()), part);
                }
                if part.contains('.') {
                    for sub in part
                        .split('.')
                        .filter(|p| p.len() >= 5 && p.len() < part.len())
                    {
                        if distinctive(sub)
                            && (sub.contains('_')
                                || sub.bytes().any(|b| b.is_ascii_digit())
                                || sub.len() >= 12)
                        {
                            f(token_hash(sub.as_bytes()), sub);
                        }
                    }
                }
            }
        }
    }
}

/// A text's distinctive tokens, in order: `(hash, token)`.
pub(crate) type Toks<'t> = Vec<(u64, &'t str)>;

/// Every distinctive token of `text` (empty for `None`), repeats included.
#[cfg(test)]
pub(crate) fn tokens_of(text: Option<&str>) -> Toks<'_> {
    let mut v = Vec::new();
    if let Some(t) = text {
        for_each_token(t, |h, tok| v.push((h, tok)));
    }
    v
}

/// What the analysis keeps of one text: its distinctive tokens, each once (in order
/// of first occurrence) and without the stop words, and whether any token (stop
/// words included) is a number.
///
/// The attribution pass treats a repeat of a token within one text exactly as its
/// first occurrence (a consumer matches a token once; a producer that introduced
/// it already owns or shares it), so repeats are dropped here, in the parallel
/// tokenisation, instead of being stored and probed again in the sequential pass.
#[derive(Default)]
pub(crate) struct TextToks<'t> {
    /// `(hash, token)`, distinct, in order of first occurrence, no stop words.
    pub(crate) toks: Toks<'t>,
    /// Whether any token of the text is a number ([`is_number`]).
    pub(crate) has_number: bool,
}

/// Capacity above which a reused de-duplication set is dropped rather than cleared
/// (clearing costs its capacity, and most texts are short).
const SEEN_KEEP: usize = 4096;

impl<'t> TextToks<'t> {
    /// Tokenise `text` (nothing for `None`); `seen` is a scratch set reused across
    /// texts (cleared here).
    pub(crate) fn of(
        text: Option<&'t str>,
        stop: &FxHashSet<u64>,
        seen: &mut FxHashSet<u64>,
    ) -> TextToks<'t> {
        let mut out = TextToks::default();
        let Some(text) = text else {
            return out;
        };
        seen.clear();
        for_each_token(text, |h, tok| {
            if seen.insert(h) {
                out.has_number |= is_number(tok);
                if !stop.contains(&h) {
                    out.toks.push((h, tok));
                }
            }
        });
        if seen.capacity() > SEEN_KEEP {
            *seen = FxHashSet::default();
        }
        out
    }
}

/// Whether a token is a number (two or more digits, at most one decimal point:
/// `2817`, `12.5`; not `v2x` or `ledger-212`, whose digits are part of a name).
pub(crate) fn is_number(tok: &str) -> bool {
    tok.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && tok.bytes().filter(|b| *b == b'.').count() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(t: &str) -> Vec<String> {
        let mut v = Vec::new();
        for_each_token(t, |_, s| v.push(s.to_owned()));
        v
    }

    /// The multi-pass definition `distinctive` was before it became one pass.
    fn distinctive_reference(tok: &str) -> bool {
        let b = tok.as_bytes();
        if b.len() < 2 || b.len() > 256 || (b.len() == 2 && !b.iter().all(u8::is_ascii_digit)) {
            return false;
        }
        let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
        let alpha = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
        let punct = |c: &u8| {
            matches!(
                c,
                b'_' | b'.' | b'/' | b'-' | b':' | b'@' | b'#' | b'$' | b'%' | b'+' | b'~'
            )
        };
        let inner_punct = b[1..b.len() - 1].iter().any(punct);
        if digits == b.len() {
            return b.len() >= 2;
        }
        if inner_punct {
            return b.len() >= 5 || digits > 0;
        }
        if digits > 0 && alpha > 0 {
            return true;
        }
        let upper = b.iter().filter(|c| c.is_ascii_uppercase()).count();
        let camel = b
            .windows(2)
            .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
        if camel && b.len() >= 5 {
            return true;
        }
        if upper == alpha && alpha == b.len() {
            return b.len() >= 8;
        }
        if b.iter().any(|c| *c >= 0x80) {
            return b.len() >= 6;
        }
        b.len() >= 12
    }

    #[test]
    fn one_pass_distinctive_matches_the_reference() {
        // every string of up to 6 pieces over a mixed alphabet, plus longer shapes
        let alphabet = ["a", "Z", "7", ".", "_", "/", "é", " ", "-"];
        let mut all: Vec<String> = vec![String::new()];
        let mut frontier = all.clone();
        for _ in 0..6 {
            let next: Vec<String> = frontier
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            all.extend(next.iter().cloned());
            frontier = next;
        }
        for base in [
            "getUserName",
            "HTTPSERVER",
            "ledger-db",
            "abcdefghijkl",
            "ééé",
            "x9",
        ] {
            for k in 0..=3 {
                all.push(base.repeat(k + 1));
                all.push(format!("{base}{}", "1".repeat(k)));
            }
        }
        all.push("a".repeat(256));
        all.push("a".repeat(257));
        for t in &all {
            assert_eq!(distinctive(t), distinctive_reference(t), "{t:?}");
        }
    }

    /// The tokeniser before the plain-word fast path and byte trimming.
    fn tokens_reference(text: &str) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        let bytes = text.as_bytes();
        let (mut i, n) = (0, bytes.len());
        while i < n {
            if bytes[i] == b'\\' {
                i += if i + 1 < n && bytes[i + 1] == b'u' {
                    6
                } else {
                    2
                };
                continue;
            }
            if !is_token_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < n && is_token_byte(bytes[i]) && bytes[i] != b'\\' {
                i += 1;
            }
            let Some(raw) = text.get(start..i) else {
                continue;
            };
            let tok = raw.trim_matches(|c: char| {
                matches!(c, '.' | ':' | ',' | '-' | '/' | '#' | '+' | '~' | '@')
            });
            let mut emit = |t: &str| out.push((token_hash(t.as_bytes()), t.to_owned()));
            if distinctive(tok) {
                emit(tok);
            }
            if tok.contains('/') {
                let mut rest = tok;
                while let Some(k) = rest.find('/') {
                    rest = &rest[k + 1..];
                    if rest.contains('/') && distinctive(rest) {
                        emit(rest);
                    }
                }
            }
            if tok.contains(['/', ':', '.'])
                && !tok.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            {
                for part in tok.split(['/', ':']).filter(|p| !p.is_empty()) {
                    if part.len() < tok.len() && distinctive(part) {
                        emit(part);
                    }
                    if part.contains('.') {
                        for sub in part
                            .split('.')
                            .filter(|p| p.len() >= 5 && p.len() < part.len())
                        {
                            if distinctive(sub)
                                && (sub.contains('_')
                                    || sub.bytes().any(|b| b.is_ascii_digit())
                                    || sub.len() >= 12)
                            {
                                emit(sub);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn fast_tokeniser_matches_the_reference() {
        // every string of up to 4 pieces over a mixed alphabet, plus longer texts
        let alphabet = [
            "ab",
            "Z",
            "7",
            ".",
            "/",
            ":",
            "-",
            "_",
            "\\u00e9",
            "\\",
            "é",
            " ",
            "abcdefghijkl",
        ];
        let mut all: Vec<String> = vec![String::new()];
        let mut frontier = all.clone();
        for _ in 0..4 {
            let next: Vec<String> = frontier
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            all.extend(next.iter().cloned());
            frontier = next;
        }
        all.push(
            "see /repo/tests/test_ledger.py::test_total_2024 and src/config.rs: pool_size=32, \\n\\t\\\"getUserName\\\" \\u00e9t\\u00e9 self.total_amount HTTPSERVER v2x 12.5 éééééé longlowercaseword a.b.c"
                .to_owned(),
        );
        for t in &all {
            let mut got = Vec::new();
            for_each_token(t, |h, s| got.push((h, s.to_owned())));
            assert_eq!(got, tokens_reference(t), "{t:?}");
        }
    }

    #[test]
    fn keeps_identifiers_paths_and_numbers() {
        let t = toks(
            "host = \"ledger-db-primary.prod.internal\"\nport = 6432\npool_size = 32 in config/prod.toml.",
        );
        assert_eq!(
            t,
            [
                "ledger-db-primary.prod.internal",
                "ledger-db-primary",
                "6432",
                "pool_size",
                "32",
                "config/prod.toml",
                "prod.toml"
            ]
        );
    }

    #[test]
    fn numbers_are_whole_number_tokens() {
        let nums: Vec<&str> =
            tokens_of(Some("total=2817, 12.5 and v2x sales_2024 ledger-212 7 x99"))
                .into_iter()
                .map(|(_, t)| t)
                .filter(|t| is_number(t))
                .collect();
        assert_eq!(nums, ["2817", "12.5"]);
    }

    #[test]
    fn drops_common_words_and_json_escapes() {
        assert!(toks("The answer is that the file was read and it is fine.").is_empty());
        assert_eq!(
            toks(r#"{"content":"def add(a, b):\n    return a_total\n"}"#),
            ["a_total"]
        );
        assert_eq!(
            toks("getUserName HTTP TODO 42 7 v2x"),
            ["getUserName", "42", "v2x"]
        );
    }
}
