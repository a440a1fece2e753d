//! The paths a card carries: every file name on a card (`source.files`,
//! `warnings[].file`, a path quoted in a warning message) is the file's path
//! relative to the parent of the input argument it was found under, with `/`
//! separators. `compile /a/b/logs`, `compile logs` from `/a/b`, `compile ../b/logs`
//! from `/a/c` and `compile .` from `/a/b/logs` all name `/a/b/logs/proj/x.jsonl`
//! `logs/proj/x.jsonl`; a file argument `/a/b/logs/proj/x.jsonl` names it
//! `x.jsonl` (and its Claude Code companions `x/subagents/agent-1.jsonl`). So
//! identical inputs on two machines give identical cards. See DESIGN.md, "Paths on
//! cards".

use std::path::{Component, Path, PathBuf};

/// The input argument a trace's files were found under (a directory walked, or a
/// file named), kept on [`crate::Source::root`] by the loaders so that the compiler
/// can write the card's paths relative to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRoot {
    /// One per argument (several when a trace joins files found under different
    /// arguments: Claude Code telemetry joined into its transcript), longest
    /// `base` first.
    args: Vec<Arg>,
}

/// One input argument.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Arg {
    /// The argument's path as given for a directory, its parent (maybe empty) for a
    /// file: the prefix the loader's paths start with.
    base: PathBuf,
    /// What stands for `base` on the card: the directory's own name (from the
    /// normalised absolute argument; the real name for `.` and `..`), empty for a
    /// file argument and for `/`.
    name: String,
}

impl InputRoot {
    /// The root for input argument `arg`: a directory (walked) when `arg` is one on
    /// disk, else a file.
    pub fn of(arg: &Path) -> InputRoot {
        if arg.is_dir() {
            InputRoot::dir(arg)
        } else {
            InputRoot::file(arg)
        }
    }

    /// The root for a file argument (also an in-memory file): its paths are named
    /// relative to the file's folder, so the file itself by its name.
    pub fn file(arg: &Path) -> InputRoot {
        InputRoot::one(
            arg.parent().map(Path::to_path_buf).unwrap_or_default(),
            String::new(),
        )
    }

    /// The root for a directory argument: its paths are named relative to the
    /// directory's parent, so they start with the directory's name. Symlinks are
    /// not resolved, except that `.` and `..` (and a path ending in them) take the
    /// real name of the directory they stand for.
    pub fn dir(arg: &Path) -> InputRoot {
        let lexical =
            std::path::absolute(arg)
                .ok()
                .and_then(|a| match a.components().next_back() {
                    Some(Component::Normal(n)) => Some(n.to_string_lossy().into_owned()),
                    _ => None,
                });
        let name = lexical
            .or_else(|| {
                std::fs::canonicalize(arg)
                    .ok()
                    .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
            })
            .unwrap_or_default();
        InputRoot::one(arg.to_path_buf(), name)
    }

    fn one(base: PathBuf, name: String) -> InputRoot {
        InputRoot {
            args: vec![Arg { base, name }],
        }
    }

    /// Add the arguments of `other` (a trace joined into this one keeps naming its
    /// files by its own argument). A file under several arguments goes by the
    /// deepest.
    pub fn merge(&mut self, other: &InputRoot) {
        for a in &other.args {
            if !self.args.contains(a) {
                self.args.push(a.clone());
            }
        }
        self.args.sort_by(|a, b| {
            let depth = |x: &Arg| x.base.components().count();
            depth(b).cmp(&depth(a)).then_with(|| a.base.cmp(&b.base))
        });
    }

    /// `file` (a path as the loader read it) as the card names it: relative to the
    /// argument's parent, `/`-separated. A path outside the argument (a native
    /// trace's recorded files, say) keeps only its file name when it is absolute,
    /// and stays as it is when relative.
    pub fn card_path(&self, file: &str) -> String {
        let p = Path::new(file);
        for a in &self.args {
            if let Ok(rest) = p.strip_prefix(&a.base) {
                let mut parts: Vec<String> = Vec::new();
                if !a.name.is_empty() {
                    parts.push(a.name.clone());
                }
                parts.extend(rest.components().filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                    Component::ParentDir => Some("..".to_owned()),
                    _ => None,
                }));
                return parts.join("/");
            }
        }
        if p.is_absolute() {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            file.to_owned()
        }
    }

    /// Each absolute argument's path prefix (a string ending in a separator) with
    /// the name the card uses for it: such a prefix quoted in a message (before a
    /// file name the importer did not list) is replaced.
    fn absolute_prefixes(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.args.iter().filter(|a| a.base.is_absolute()).map(|a| {
            let mut b = a.base.display().to_string();
            if !b.ends_with(std::path::MAIN_SEPARATOR) {
                b.push(std::path::MAIN_SEPARATOR);
            }
            let to = if a.name.is_empty() {
                String::new()
            } else {
                format!("{}/", a.name)
            };
            (b, to)
        })
    }

    /// Rewrite every path of a card made from files read under this root:
    /// `files` (the sources), the `file` of each warning, and the paths the
    /// warning messages quote (each listed file, then the absolute argument prefix).
    pub(crate) fn rewrite<'a>(
        &self,
        files: &mut [String],
        warnings: impl Iterator<Item = &'a mut crate::model::Warning>,
    ) {
        let warnings: Vec<&mut crate::model::Warning> = warnings.collect();
        // every path string known, longest first, with its card name
        let mut known: Vec<(String, String)> = files
            .iter()
            .chain(warnings.iter().filter_map(|w| w.file.as_ref()))
            .map(|f| (f.clone(), self.card_path(f)))
            .filter(|(f, c)| f != c && !f.is_empty())
            .collect();
        known.extend(self.absolute_prefixes());
        known.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        known.dedup_by(|a, b| a.0 == b.0);
        for f in files.iter_mut() {
            *f = self.card_path(f);
        }
        for w in warnings {
            if let Some(f) = &mut w.file {
                *f = self.card_path(f);
            }
            if known
                .iter()
                .any(|(from, _)| w.message.contains(from.as_str()))
            {
                w.message = replace_all(&w.message, &known);
            }
        }
    }
}

/// `text` with every occurrence of a `from` replaced by its `to`, in one left to
/// right pass (a replacement is never replaced again); `pairs` longest `from` first.
fn replace_all(text: &str, pairs: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for (from, to) in pairs {
            if let Some(after) = rest.strip_prefix(from.as_str()) {
                out.push_str(to);
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_arguments_name_files_from_the_directory() {
        let abs = InputRoot::dir(Path::new("/a/b/logs"));
        assert_eq!(abs.card_path("/a/b/logs/proj/x.jsonl"), "logs/proj/x.jsonl");
        let slash = InputRoot::dir(Path::new("/a/b/logs/"));
        assert_eq!(
            slash.card_path("/a/b/logs/proj/x.jsonl"),
            "logs/proj/x.jsonl"
        );
        let rel = InputRoot::dir(Path::new("../b/logs"));
        assert_eq!(rel.card_path("../b/logs/proj/x.jsonl"), "logs/proj/x.jsonl");
        let dot_logs = InputRoot::dir(Path::new("./logs/"));
        assert_eq!(
            dot_logs.card_path("./logs/proj/x.jsonl"),
            "logs/proj/x.jsonl"
        );
        let root = InputRoot::dir(Path::new("/"));
        assert_eq!(root.card_path("/a/b/x.jsonl"), "a/b/x.jsonl");
    }

    #[test]
    fn dot_takes_the_real_directory_name() {
        let cwd = std::env::current_dir().unwrap();
        let name = cwd.file_name().unwrap().to_string_lossy().into_owned();
        let dot = InputRoot::dir(Path::new("."));
        assert_eq!(
            dot.card_path("./proj/x.jsonl"),
            format!("{name}/proj/x.jsonl")
        );
        let parent = cwd.parent().unwrap();
        let pname = parent.file_name().unwrap().to_string_lossy().into_owned();
        let up = InputRoot::dir(Path::new(".."));
        assert_eq!(
            up.card_path("../proj/x.jsonl"),
            format!("{pname}/proj/x.jsonl")
        );
    }

    #[test]
    fn file_arguments_name_the_file_and_its_companions() {
        let abs = InputRoot::file(Path::new("/a/b/logs/proj/x.jsonl"));
        assert_eq!(abs.card_path("/a/b/logs/proj/x.jsonl"), "x.jsonl");
        assert_eq!(
            abs.card_path("/a/b/logs/proj/x/subagents/agent-1.jsonl"),
            "x/subagents/agent-1.jsonl"
        );
        let rel = InputRoot::file(Path::new("proj/x.jsonl"));
        assert_eq!(rel.card_path("proj/x.jsonl"), "x.jsonl");
        let bare = InputRoot::file(Path::new("x.jsonl"));
        assert_eq!(bare.card_path("x.jsonl"), "x.jsonl");
        assert_eq!(bare.card_path("x/otel/logs.json"), "x/otel/logs.json");
        // outside the argument: an absolute path keeps its name only
        assert_eq!(abs.card_path("/elsewhere/y.jsonl"), "y.jsonl");
    }

    #[test]
    fn a_joined_trace_names_each_file_by_its_own_argument() {
        let mut r = InputRoot::file(Path::new("/a/t/s.jsonl"));
        r.merge(&InputRoot::dir(Path::new("/b/otel")));
        assert_eq!(r.card_path("/a/t/s.jsonl"), "s.jsonl");
        assert_eq!(r.card_path("/b/otel/logs.json"), "otel/logs.json");
        // under both: the deepest argument
        let mut r = InputRoot::file(Path::new("/a/s.jsonl"));
        r.merge(&InputRoot::dir(Path::new("/a/otel")));
        assert_eq!(r.card_path("/a/otel/logs.json"), "otel/logs.json");
    }

    #[test]
    fn messages_quote_card_paths() {
        let root = InputRoot::dir(Path::new("/tmp/m1/logs"));
        let mut files = vec!["/tmp/m1/logs/p/x.jsonl".to_owned()];
        let mut w = [crate::model::Warning::at(
            crate::model::WarningCode::TruncatedLine,
            "skipped /tmp/m1/logs/p/x.jsonl line 3; see /tmp/m1/logs/p/x/subagents/a.jsonl",
            "/tmp/m1/logs/p/x.jsonl",
            Some(3),
        )];
        root.rewrite(&mut files, w.iter_mut());
        assert_eq!(files, ["logs/p/x.jsonl"]);
        assert_eq!(w[0].file.as_deref(), Some("logs/p/x.jsonl"));
        assert_eq!(
            w[0].message,
            "skipped logs/p/x.jsonl line 3; see logs/p/x/subagents/a.jsonl"
        );
    }
}
