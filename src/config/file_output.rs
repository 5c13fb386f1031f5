//! How a `file` sink writes its bytes: `compression:` (none, gzip, zstd; inferred from a `.gz` or
//! `.zst` path), `level:` and `rotate:` (a new numbered file every N events or N bytes). The
//! sink's own fields are in [`super::sink`]; these are read by `read` from the same mapping,
//! kept apart so the file sink's formats and its output can change independently.

use super::document::At;
use super::read::{Field, FieldType, Kind, MapNode, Reader};
use super::yaml::Loc;

/// The gzip level when a spec gives none: gzip's own default, files as small as the `gzip`
/// tool's. Level 1 was measured at about 3× the speed for files 1.8× as large; zstd at its
/// default about 2.5× the speed for files 16% larger (BENCHMARKS.md, "File compression").
pub const DEFAULT_GZIP_LEVEL: u32 = 6;
/// The zstd level when a spec gives none (zstd's own default).
pub const DEFAULT_ZSTD_LEVEL: u32 = 3;
/// The highest gzip level.
pub const MAX_GZIP_LEVEL: u32 = 9;
/// The highest zstd level.
pub const MAX_ZSTD_LEVEL: u32 = 22;

/// The fields of `rotate:`: exactly one of them.
pub const ROTATE_FIELDS: &[Field] = &[
    Field::new(
        "events",
        FieldType::Count { min: 1, max: None },
        "Start a new file after this many events",
    ),
    Field::new(
        "bytes",
        FieldType::Count { min: 1, max: None },
        "Start a new file once this many bytes (before compression) are written to it",
    ),
];

/// The file sink's compressions (`compression:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Compression {
    /// The format's bytes as they are.
    #[default]
    None,
    /// A gzip stream (`.gz`).
    Gzip,
    /// A zstd frame (`.zst`).
    Zstd,
}

impl Kind for Compression {
    const ALL: &'static [Compression] = &[Compression::None, Compression::Gzip, Compression::Zstd];
    const WHAT: &'static str = "compression";

    fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Compression::None => &[],
            Compression::Gzip => const { &["gz"] },
            Compression::Zstd => const { &["zst"] },
        }
    }

    fn field_table(self) -> &'static [Field] {
        &[]
    }
}

impl Compression {
    /// The file name extension that says a file is compressed this way (`None` for none).
    pub fn extension(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gz"),
            Compression::Zstd => Some("zst"),
        }
    }

    /// The compression a path's extension names: `.gz` gzip, `.zst` zstd, anything else none.
    pub fn of_path(path: &str) -> Compression {
        let ext = std::path::Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        Compression::ALL
            .iter()
            .copied()
            .find(|c| c.extension() == Some(ext))
            .unwrap_or(Compression::None)
    }

    /// The level used when a spec gives none, and the highest level (`None` has no level).
    pub fn levels(self) -> Option<(u32, u32)> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some((DEFAULT_GZIP_LEVEL, MAX_GZIP_LEVEL)),
            Compression::Zstd => Some((DEFAULT_ZSTD_LEVEL, MAX_ZSTD_LEVEL)),
        }
    }
}

/// When a file sink starts a new file (`rotate:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// After this many events.
    Events(u64),
    /// Once this many bytes of the format's output (before compression) are in the file.
    Bytes(u64),
}

/// How a file sink writes: compression and level, and rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FileOutput {
    pub compression: Compression,
    /// The compression level (1 to 9 for gzip, 1 to 22 for zstd).
    pub level: u32,
    /// `None`: one file, at the path as written.
    pub rotate: Option<Rotation>,
}

impl FileOutput {
    /// Plain, one file.
    pub fn plain() -> FileOutput {
        FileOutput::default()
    }

    /// `compression` at its default level, one file.
    pub fn compressed(compression: Compression) -> FileOutput {
        FileOutput {
            compression,
            level: compression.levels().map_or(0, |(default, _)| default),
            rotate: None,
        }
    }

    /// The same, rotating.
    pub fn rotating(self, rotation: Rotation) -> FileOutput {
        FileOutput {
            rotate: Some(rotation),
            ..self
        }
    }
}

/// Reads `compression`, `level` and `rotate` of a file sink whose `path` (if it could be read)
/// is `path`.
pub(crate) fn read(
    reader: &mut Reader,
    spec: &MapNode,
    path: Option<&At<String>>,
) -> Option<FileOutput> {
    let by_path = path.map_or(Compression::None, |p| Compression::of_path(&p.value));
    let compression = match spec.get("compression") {
        None => Some(by_path),
        Some((node, field)) => {
            let given = reader.kind::<Compression>(node, &field);
            if let (Some(given), Some(path)) = (given, path) {
                contradiction(reader, &field, node.loc, given, by_path, &path.value);
            }
            given
        }
    };
    let level = match spec.get("level") {
        None => Some(None),
        Some((node, field)) => reader.count_of(node, &field, "level", 1).map(Some),
    };
    let rotate = match spec.get("rotate") {
        None => Some(None),
        Some((node, field)) => rotation(reader, node, &field).map(Some),
    };
    let (compression, level) = (compression?, level?);
    let level = match (compression.levels(), level) {
        (None, None) => 0,
        (Some((default, _)), None) => default,
        (Some((_, max)), Some(level)) if level <= u64::from(max) => level as u32,
        (Some((_, max)), Some(level)) => {
            let (node, field) = spec.get("level")?;
            reader.error(
                &field,
                node.loc,
                format!(
                    "`level` is {level}, above the highest {} level {max}",
                    compression.name()
                ),
                format!("use a level from 1 to {max}"),
            );
            return None;
        }
        (None, Some(_)) => {
            let (node, field) = spec.get("level")?;
            reader.warn(
                &field,
                node.loc,
                "`level` is ignored: this file is not compressed",
                "remove `level`, or add `compression: gzip` or `compression: zstd`",
            );
            0
        }
    };
    Some(FileOutput {
        compression,
        level,
        rotate: rotate?,
    })
}

/// Warns when `compression:` says one thing and the path's extension another.
fn contradiction(
    reader: &mut Reader,
    field: &str,
    loc: Loc,
    given: Compression,
    by_path: Compression,
    path: &str,
) {
    if given == by_path {
        return;
    }
    let help = match given.extension() {
        Some(ext) => format!(
            "name the file `{path}.{ext}`, or write `compression: {}`",
            by_path.name()
        ),
        None => format!(
            "remove `compression: none` to compress as the name says, or drop the `.{}`",
            by_path.extension().unwrap_or_default()
        ),
    };
    let message = match by_path.extension() {
        Some(ext) => format!(
            "`compression: {}`, but the path `{path}` ends in `.{ext}`, which says {}",
            given.name(),
            by_path.name()
        ),
        None => format!(
            "`compression: {}`, but the path `{path}` does not end in `.{}`: tools that choose \
             a decompressor by the name will not read it",
            given.name(),
            given.extension().unwrap_or_default()
        ),
    };
    reader.warn(field, loc, message, help);
}

/// Reads `rotate: {events: N}` or `rotate: {bytes: N}`.
fn rotation(reader: &mut Reader, node: &super::yaml::Node, field: &str) -> Option<Rotation> {
    let obj = reader.obj(node, field, "`rotate`")?;
    let allowed = super::read::names(ROTATE_FIELDS);
    reader.deny_unknown(&obj, &allowed, "`rotate`");
    let events = reader.opt_count(&obj, "events", 1);
    let bytes = reader.opt_count(&obj, "bytes", 1);
    match (events?, bytes?) {
        (Some(n), None) => Some(Rotation::Events(n)),
        (None, Some(n)) => Some(Rotation::Bytes(n)),
        (Some(_), Some(_)) => {
            reader.error(
                field,
                node.loc,
                "`rotate` has both `events` and `bytes`",
                "rotate by one of them: keep `events: N` or `bytes: N`",
            );
            None
        }
        (None, None) => {
            // An unknown key is reported already, with its did-you-mean.
            if obj.entries.is_empty() {
                reader.error(
                    field,
                    node.loc,
                    "`rotate` says neither `events` nor `bytes`",
                    "write `rotate: {events: 1000000}` or `rotate: {bytes: 100000000}`",
                );
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_names_the_compression() {
        assert_eq!(Compression::of_path("a/events.jsonl.gz"), Compression::Gzip);
        assert_eq!(Compression::of_path("events.jsonl.zst"), Compression::Zstd);
        assert_eq!(Compression::of_path("events.jsonl"), Compression::None);
        assert_eq!(Compression::of_path("events"), Compression::None);
        assert_eq!(Compression::of_path("gz"), Compression::None);
    }
}
