//! `kind: sink`: where the events of some datasources go. The sink types, each one's fields
//! and defaults, the Kafka sink's topic templates and partitioning settings, and the MQTT
//! sink's settings.

use super::diagnostic::Place;
use super::document::{At, FieldPlaces};
use super::file_output::{self, Compression, FileOutput, MAX_ZSTD_LEVEL};
use super::read::{names, Field, FieldDefault, FieldType, Kind, MapNode, Nested, Reader};
use super::yaml::{Node, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The console sink's label when a spec gives no `id` (the original's default).
pub const DEFAULT_CONSOLE_ID: &str = "Sensor";
/// Milliseconds per load-test timeframe when neither the http sink nor the simulation says.
pub const DEFAULT_TIMEFRAME_MS: u64 = 1000;
/// Seconds the Kafka and MQTT sinks wait for the broker when they start (`connectTimeout`).
pub const DEFAULT_CONNECT_TIMEOUT_SECS: f64 = 5.0;
/// Seconds the Kafka and MQTT sinks wait for outstanding deliveries at the end (`flushTimeout`).
pub const DEFAULT_FLUSH_TIMEOUT_SECS: f64 = 30.0;
/// The MQTT broker's port when a spec gives none (MQTT's registered port, without TLS).
pub const DEFAULT_MQTT_PORT: u64 = 1883;
/// The MQTT sink's quality of service when a spec gives none: at least once, acknowledged.
pub const DEFAULT_MQTT_QOS: u64 = 1;

/// `connectTimeout` of the sinks that talk to a broker (Kafka, MQTT).
const CONNECT_TIMEOUT_FIELD: Field = Field::new(
    "connectTimeout",
    FieldType::Number {
        min: Some(BROKER_TIMEOUT_MINIMA.0),
        max: None,
    },
    "Seconds to wait for the broker when the sink starts",
)
.default(FieldDefault::Number(DEFAULT_CONNECT_TIMEOUT_SECS));

/// `flushTimeout` of the sinks that talk to a broker (Kafka, MQTT).
const FLUSH_TIMEOUT_FIELD: Field = Field::new(
    "flushTimeout",
    FieldType::Number {
        min: Some(BROKER_TIMEOUT_MINIMA.1),
        max: None,
    },
    "Seconds to wait for outstanding deliveries (acknowledgements) when the run ends",
)
.default(FieldDefault::Number(DEFAULT_FLUSH_TIMEOUT_SECS));

/// The smallest `connectTimeout` and `flushTimeout` accepted, in seconds.
const BROKER_TIMEOUT_MINIMA: (f64, f64) = (0.1, 0.0);

/// Reads `connectTimeout` and `flushTimeout` (with their defaults) of a broker sink.
fn broker_timeouts(reader: &mut Reader, spec: &MapNode) -> Option<(f64, f64)> {
    let connect = reader.opt_number(spec, "connectTimeout", Some(BROKER_TIMEOUT_MINIMA.0));
    let flush = reader.opt_number(spec, "flushTimeout", Some(BROKER_TIMEOUT_MINIMA.1));
    Some((
        connect?.unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECS),
        flush?.unwrap_or(DEFAULT_FLUSH_TIMEOUT_SECS),
    ))
}

/// The fields every sink has, whatever its type.
pub const COMMON_FIELDS: &[Field] = &[
    Field::new(
        "type",
        FieldType::Word(SinkType::words),
        "Where the events go",
    )
    .required(),
    Field::new(
        "id",
        FieldType::String,
        "A label for the sink; the console sink starts each line with it",
    )
    .default(FieldDefault::String(DEFAULT_CONSOLE_ID)),
    Field::new(
        "dataSourceRefs",
        FieldType::Strings,
        "The datasources (by document name) whose events this sink takes",
    )
    .required(),
];

/// The sink types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkType {
    Console,
    File,
    Blackhole,
    /// Keeps events in memory (`type: test` in the original's files, or `memory`).
    Memory,
    Kafka,
    /// MQTT-XES: one message per event on `{baseTopic}/{process}/{case}/{activity}`.
    Mqtt,
    Http,
    Ui,
}

impl Kind for SinkType {
    const ALL: &'static [SinkType] = &[
        SinkType::Console,
        SinkType::File,
        SinkType::Blackhole,
        SinkType::Memory,
        SinkType::Kafka,
        SinkType::Mqtt,
        SinkType::Http,
        SinkType::Ui,
    ];
    const WHAT: &'static str = "sink type";

    fn name(self) -> &'static str {
        match self {
            SinkType::Console => "console",
            SinkType::File => "file",
            SinkType::Blackhole => "blackhole",
            SinkType::Memory => "memory",
            SinkType::Kafka => "kafka",
            SinkType::Mqtt => "mqtt",
            SinkType::Http => "http",
            SinkType::Ui => "ui",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            SinkType::Memory => const { &["test"] },
            SinkType::Console
            | SinkType::File
            | SinkType::Blackhole
            | SinkType::Kafka
            | SinkType::Mqtt
            | SinkType::Http
            | SinkType::Ui => &[],
        }
    }

    fn field_table(self) -> &'static [Field] {
        match self {
            SinkType::Console => {
                const {
                    &[
                        Field::new(
                "format",
                FieldType::Word(ConsoleFormat::words),
                "How each event is printed: the original's `<id> <node>: <json>`, JSON lines, CSV or XES",
            )
            .default(FieldDefault::Word(|| ConsoleFormat::default().name())),
                        COLUMNS_FIELD,
                    ]
                }
            }
            SinkType::File => {
                const {
                    &[
                        Field::new(
                            "path",
                            FieldType::String,
                            "The file to write, relative to the working directory",
                        )
                        .required(),
                        Field::new(
                            "format",
                            FieldType::Word(FileFormat::words),
                            "How events are written: JSON lines, CSV, XES or OCEL 2.0 JSON",
                        )
                        .default(FieldDefault::Word(|| FileFormat::default().name())),
                        Field::new(
                            "compression",
                            FieldType::Word(Compression::words),
                            "none, gzip or zstd; by default as the path's extension says \
                             (`.gz`, `.zst`)",
                        ),
                        Field::new(
                            "level",
                            FieldType::Count {
                                min: 1,
                                max: Some(MAX_ZSTD_LEVEL as u64),
                            },
                            "The compression level: gzip 1 to 9 (default 6), zstd 1 to 22 \
                             (default 3)",
                        ),
                        Field::new(
                            "rotate",
                            FieldType::Nested(Nested::Rotate),
                            "Numbered files instead of one: a new file every `events: N` events \
                             or `bytes: N` bytes",
                        ),
                        COLUMNS_FIELD,
                    ]
                }
            }
            SinkType::Kafka => {
                const {
                    &[
                Field::new(
                    "bootstrapServer",
                    FieldType::String,
                    "The brokers to connect to: `host:port`, comma-separated",
                )
                .required(),
                Field::new(
                    "clientId",
                    FieldType::String,
                    "The Kafka client id of the producer",
                ),
                Field::new(
                    "topic",
                    FieldType::String,
                    "The topic, or a template with `{node}` and `{group}`",
                )
                .required(),
                Field::new(
                    "partition",
                    FieldType::Nested(Nested::Partition),
                    "Which partition each record goes to (by default the partitioner chooses by key)",
                ),
                Field::new(
                    "producer",
                    FieldType::Nested(Nested::Settings),
                    "librdkafka producer settings, passed on as they are",
                ),
                CONNECT_TIMEOUT_FIELD,
                FLUSH_TIMEOUT_FIELD,
            ]
                }
            }
            SinkType::Mqtt => MQTT_FIELDS,
            SinkType::Http => {
                const {
                    &[
                        Field::new(
                            "url",
                            FieldType::String,
                            "The load backend's URL the timeframes are posted to",
                        )
                        .required(),
                        Field::new(
                            "timeframe",
                            FieldType::Count { min: 1, max: None },
                            "Milliseconds per timeframe",
                        )
                        .default(FieldDefault::Count(DEFAULT_TIMEFRAME_MS)),
                        Field::new(
                            "token",
                            FieldType::String,
                            "The bearer token the backend requires (`def backend --token`); \
                             default: the environment variable DEF_BACKEND_TOKEN",
                        ),
                    ]
                }
            }
            SinkType::Blackhole | SinkType::Memory | SinkType::Ui => &[],
        }
    }
}

impl SinkType {
    /// The type-specific fields of a sink of this type, as YAML (`type:` included).
    pub fn example(self) -> &'static str {
        match self {
            SinkType::Console => "type: console\nformat: json",
            SinkType::File => "type: file\npath: events.jsonl",
            SinkType::Blackhole => "type: blackhole",
            SinkType::Memory => "type: memory",
            SinkType::Kafka => "type: kafka\nbootstrapServer: localhost:9092\ntopic: events",
            SinkType::Mqtt => "type: mqtt\nhost: localhost\nbaseTopic: def",
            SinkType::Http => "type: http\nurl: http://localhost:8080/loadgenerator",
            SinkType::Ui => "type: ui",
        }
    }
}

/// `kind: sink`: where the events of some datasources go.
#[derive(Clone, Debug)]
pub struct SinkSpec {
    /// The type and its settings, placed at the `type:` line.
    pub settings: At<SinkSettings>,
    /// A label (the original's `id`), used in console lines.
    pub id: Option<String>,
    pub data_source_refs: Vec<At<String>>,
    /// Where each field of the spec was written.
    pub places: FieldPlaces,
}

impl SinkSpec {
    /// The place of `field`, or of the `type:` line if the spec does not have it.
    pub fn place_of(&self, field: &str) -> &Place {
        self.places.of(field).unwrap_or(&self.settings.place)
    }
}

/// Each sink type's settings.
#[derive(Clone, Debug, PartialEq)]
pub enum SinkSettings {
    Console {
        format: ConsoleFormat,
        columns: ColumnNames,
    },
    File {
        path: PathBuf,
        format: FileFormat,
        /// Compression and rotation.
        output: FileOutput,
        columns: ColumnNames,
    },
    Blackhole,
    Memory,
    Kafka(KafkaSinkSpec),
    Mqtt(MqttSinkSpec),
    Http(HttpSinkSpec),
    Ui,
}

impl SinkSettings {
    pub fn sink_type(&self) -> SinkType {
        match self {
            SinkSettings::Console { .. } => SinkType::Console,
            SinkSettings::File { .. } => SinkType::File,
            SinkSettings::Blackhole => SinkType::Blackhole,
            SinkSettings::Memory => SinkType::Memory,
            SinkSettings::Kafka(_) => SinkType::Kafka,
            SinkSettings::Mqtt(_) => SinkType::Mqtt,
            SinkSettings::Http(_) => SinkType::Http,
            SinkSettings::Ui => SinkType::Ui,
        }
    }
}

/// How the console sink prints an event (`format:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConsoleFormat {
    /// `<id> <node>: <event json>`, as the original.
    #[default]
    Original,
    /// One JSON object per line.
    Json,
    /// A header line, then one CSV row per event.
    Csv,
    /// XES, a trace per case, written as each case ends.
    Xes,
}

impl Kind for ConsoleFormat {
    const ALL: &'static [ConsoleFormat] = &[
        ConsoleFormat::Original,
        ConsoleFormat::Json,
        ConsoleFormat::Csv,
        ConsoleFormat::Xes,
    ];
    const WHAT: &'static str = "console format";

    fn name(self) -> &'static str {
        match self {
            ConsoleFormat::Original => "original",
            ConsoleFormat::Json => "json",
            ConsoleFormat::Csv => "csv",
            ConsoleFormat::Xes => "xes",
        }
    }

    fn field_table(self) -> &'static [Field] {
        &[]
    }
}

/// The file sink's formats (`format:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FileFormat {
    /// One JSON object per line.
    #[default]
    Jsonl,
    /// A header line, then one CSV row per event (RFC 4180).
    Csv,
    /// XES (IEEE 1849-2016), a trace per case.
    Xes,
    /// OCEL 2.0 JSON: cases and datasources as objects.
    Ocel,
}

impl Kind for FileFormat {
    const ALL: &'static [FileFormat] = &[
        FileFormat::Jsonl,
        FileFormat::Csv,
        FileFormat::Xes,
        FileFormat::Ocel,
    ];
    const WHAT: &'static str = "file format";

    fn name(self) -> &'static str {
        match self {
            FileFormat::Jsonl => "jsonl",
            FileFormat::Csv => "csv",
            FileFormat::Xes => "xes",
            FileFormat::Ocel => "ocel",
        }
    }

    fn field_table(self) -> &'static [Field] {
        &[]
    }
}

/// `columns:` of a file or console sink: the CSV column of each event field.
const COLUMNS_FIELD: Field = Field::new(
    "columns",
    FieldType::Nested(Nested::Columns),
    "With `format: csv`: the column name of each event field (by default the XES names pm4py reads)",
);

/// The CSV column names by default: the XES attribute names pm4py reads without renaming.
pub const DEFAULT_CASEID_COLUMN: &str = "case:concept:name";
pub const DEFAULT_ACTIVITY_COLUMN: &str = "concept:name";
pub const DEFAULT_TIMESTAMP_COLUMN: &str = "time:timestamp";
pub const DEFAULT_NODE_COLUMN: &str = "org:resource";
pub const DEFAULT_GROUP_COLUMN: &str = "org:group";
pub const DEFAULT_EMITTED_AT_COLUMN: &str = "emittedAt";

/// The fields of `columns:`: the event fields, each with its default column name.
pub const COLUMN_FIELDS: &[Field] = &[
    Field::new("caseid", FieldType::String, "The case id's column")
        .default(FieldDefault::String(DEFAULT_CASEID_COLUMN)),
    Field::new("activity", FieldType::String, "The activity's column")
        .default(FieldDefault::String(DEFAULT_ACTIVITY_COLUMN)),
    Field::new(
        "timestamp",
        FieldType::String,
        "The timestamp's column (ISO 8601 with milliseconds and offset)",
    )
    .default(FieldDefault::String(DEFAULT_TIMESTAMP_COLUMN)),
    Field::new("node", FieldType::String, "The datasource's column")
        .default(FieldDefault::String(DEFAULT_NODE_COLUMN)),
    Field::new("group", FieldType::String, "The datasource group's column")
        .default(FieldDefault::String(DEFAULT_GROUP_COLUMN)),
    Field::new(
        "emittedAt",
        FieldType::String,
        "The emission time's column, present when the run stamps events with `emittedAt`",
    )
    .default(FieldDefault::String(DEFAULT_EMITTED_AT_COLUMN)),
];

/// The CSV column name of each event field (`columns:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnNames {
    pub caseid: String,
    pub activity: String,
    pub timestamp: String,
    pub node: String,
    pub group: String,
    pub emitted_at: String,
}

impl Default for ColumnNames {
    fn default() -> ColumnNames {
        ColumnNames {
            caseid: DEFAULT_CASEID_COLUMN.into(),
            activity: DEFAULT_ACTIVITY_COLUMN.into(),
            timestamp: DEFAULT_TIMESTAMP_COLUMN.into(),
            node: DEFAULT_NODE_COLUMN.into(),
            group: DEFAULT_GROUP_COLUMN.into(),
            emitted_at: DEFAULT_EMITTED_AT_COLUMN.into(),
        }
    }
}

/// The Kafka sink's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaSinkSpec {
    pub bootstrap_server: String,
    pub client_id: Option<String>,
    /// A topic name, or a template with `{node}` and `{group}`.
    pub topic: String,
    pub partition: PartitionSpec,
    /// Passed to librdkafka as they are.
    pub producer: BTreeMap<String, String>,
    /// Seconds to wait for the broker when the sink is built (`connectTimeout`).
    pub connect_timeout_secs: f64,
    /// Seconds to wait for outstanding deliveries when the run ends (`flushTimeout`).
    pub flush_timeout_secs: f64,
}

/// Resolves `{node}` and `{group}` in a topic template and checks the result is a legal
/// Kafka topic name.
///
/// # Errors
/// An unknown placeholder, or a result that is not a legal topic name; the message says which.
pub fn resolve_topic(template: &str, node: &str, group: &str) -> Result<String, String> {
    let topic = template.replace("{node}", node).replace("{group}", group);
    if let Some(open) = topic.find('{') {
        let rest = &topic[open..];
        let shown = rest.find('}').map_or(rest, |close| &rest[..=close]);
        return Err(format!(
            "the topic template `{template}` has an unknown placeholder `{shown}`; \
             the placeholders are {{node}} and {{group}}"
        ));
    }
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if topic.is_empty() || topic.len() > 249 || !topic.chars().all(legal) || topic == "." {
        return Err(format!(
            "`{topic}` (from the topic template `{template}`) is not a legal Kafka topic name: \
             use 1 to 249 letters, digits, `.`, `_` and `-`"
        ));
    }
    Ok(topic)
}

/// The partition types (`partition: {type: ...}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionType {
    Constant,
    Case,
    Default,
}

impl Kind for PartitionType {
    const ALL: &'static [PartitionType] = &[
        PartitionType::Constant,
        PartitionType::Case,
        PartitionType::Default,
    ];
    const WHAT: &'static str = "partition type";

    fn name(self) -> &'static str {
        match self {
            PartitionType::Constant => "constant",
            PartitionType::Case => "case",
            PartitionType::Default => "default",
        }
    }

    fn field_table(self) -> &'static [Field] {
        match self {
            PartitionType::Constant => {
                const {
                    &[Field::new(
                        "partition",
                        FieldType::Count { min: 0, max: None },
                        "The partition every record goes to",
                    )
                    .required()]
                }
            }
            PartitionType::Case => {
                const {
                    &[Field::new(
                "partitionCount",
                FieldType::Count { min: 1, max: None },
                "How many partitions the case ids are hashed over: a case stays in one, in order",
            )
            .required()]
                }
            }
            PartitionType::Default => &[],
        }
    }
}

/// The field every partition mapping has, whatever its type.
pub const PARTITION_COMMON_FIELDS: &[Field] = &[Field::new(
    "type",
    FieldType::Word(PartitionType::words),
    "How the partition is chosen: one for all, by case, or by the partitioner",
)
.required()];

/// Which partition a Kafka record goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PartitionSpec {
    /// Let the partitioner choose (by key).
    #[default]
    Default,
    Constant(i32),
    /// Hash of the case id modulo the count: a case stays in one partition, in order.
    Case {
        partition_count: i32,
    },
}

/// The load-test sink's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpSinkSpec {
    pub url: String,
    /// Milliseconds per timeframe.
    pub timeframe_ms: u64,
    /// The backend's bearer token (`token`); the sink falls back to `DEF_BACKEND_TOKEN`.
    pub token: Option<String>,
}

/// The MQTT sink's fields (`type: mqtt`).
const MQTT_FIELDS: &[Field] = &[
    Field::new(
        "host",
        FieldType::String,
        "The MQTT broker's host name or IP address (without the port)",
    )
    .required(),
    Field::new(
        "port",
        FieldType::Count {
            min: 1,
            max: Some(65535),
        },
        "The broker's port",
    )
    .default(FieldDefault::Count(DEFAULT_MQTT_PORT)),
    Field::new(
        "clientId",
        FieldType::String,
        "The MQTT client id (by default `def-<sink name>-<process id>`)",
    ),
    Field::new(
        "qos",
        FieldType::Count {
            min: 0,
            max: Some(2),
        },
        "Quality of service: 0 at most once (not acknowledged), 1 at least once, 2 exactly once",
    )
    .default(FieldDefault::Count(DEFAULT_MQTT_QOS)),
    Field::new(
        "baseTopic",
        FieldType::String,
        "The topic levels before `{process}/{case}/{activity}`, e.g. `def` or `factory/line1`",
    )
    .required(),
    Field::new(
        "process",
        FieldType::String,
        "The process name, the first level after `baseTopic` (by default the simulation's name)",
    ),
    CONNECT_TIMEOUT_FIELD,
    FLUSH_TIMEOUT_FIELD,
];

/// The MQTT sink's settings (MQTT-XES topics: docs/mqtt.md).
#[derive(Clone, Debug, PartialEq)]
pub struct MqttSinkSpec {
    pub host: String,
    pub port: u16,
    /// The client id; `None` for `def-<sink name>-<process id>`.
    pub client_id: Option<String>,
    /// 0, 1 or 2.
    pub qos: u8,
    /// The levels before the process, without a trailing `/`.
    pub base_topic: String,
    /// The process level (unescaped); `None` for the simulation's name.
    pub process: Option<String>,
    /// Seconds to wait for the broker's CONNACK when the sink is built (`connectTimeout`).
    pub connect_timeout_secs: f64,
    /// Seconds to wait for outstanding acknowledgements when the run ends (`flushTimeout`).
    pub flush_timeout_secs: f64,
}

impl MqttSinkSpec {
    /// `host:port`, as messages name the broker.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Why `base` cannot be an MQTT-XES base topic, if it cannot: it is the literal start of every
/// topic, so it must be a legal topic name itself (no wildcards, no NUL), must not start with
/// `$` (topics the broker keeps for itself, which `#` subscriptions do not match) and must not
/// end with `/` (the sink adds it).
pub fn base_topic_problem(base: &str) -> Option<String> {
    if base.is_empty() {
        return Some("`baseTopic` is empty".into());
    }
    if let Some(c) = base.chars().find(|c| matches!(c, '+' | '#' | '\0')) {
        let shown = if c == '\0' {
            "NUL".to_string()
        } else {
            format!("`{c}`")
        };
        return Some(format!(
            "`baseTopic` `{base}` contains {shown}, which MQTT topic names cannot carry"
        ));
    }
    if base.starts_with('$') {
        return Some(format!(
            "`baseTopic` `{base}` starts with `$`, which MQTT keeps for the broker's own topics"
        ));
    }
    if base.ends_with('/') {
        return Some(format!(
            "`baseTopic` `{base}` ends with `/`; the sink adds the `/` before the process"
        ));
    }
    None
}

/// Reads a sink spec.
pub(crate) fn read(reader: &mut Reader, spec: &MapNode) -> Option<SinkSpec> {
    let (sink_type, place) =
        reader.req_kind::<SinkType>(spec, "type", "the sink spec", "console")?;
    let mut allowed = names(COMMON_FIELDS);
    allowed.extend(sink_type.fields());
    reader.deny_unknown(spec, &allowed, &format!("a {} sink", sink_type.name()));
    let id = reader.opt_string(spec, "id");
    let refs = match spec.get("dataSourceRefs") {
        Some((node, path)) => reader.string_list(node, &path, "dataSourceRefs"),
        None => {
            reader.missing(spec, "dataSourceRefs", "the sink spec", "[\"MyNode\"]");
            None
        }
    };
    let what = format!("the {} sink", sink_type.name());
    let settings = match sink_type {
        SinkType::Console => {
            let format = console_format(reader, spec)?;
            SinkSettings::Console {
                columns: columns(reader, spec, format.name(), format == ConsoleFormat::Csv)?,
                format,
            }
        }
        SinkType::File => {
            let path = reader.req_string(spec, "path", &what, "events.jsonl");
            let format = reader.opt_kind(spec, "format", FileFormat::default());
            let output = file_output::read(reader, spec, path.as_ref());
            let format = format?;
            SinkSettings::File {
                path: PathBuf::from(path?.value),
                columns: columns(reader, spec, format.name(), format == FileFormat::Csv)?,
                format,
                output: output?,
            }
        }
        SinkType::Blackhole => SinkSettings::Blackhole,
        SinkType::Memory => SinkSettings::Memory,
        SinkType::Kafka => SinkSettings::Kafka(kafka(reader, spec, &what)?),
        SinkType::Mqtt => SinkSettings::Mqtt(mqtt(reader, spec, &what)?),
        SinkType::Http => {
            let url = reader.req_string(spec, "url", &what, "http://localhost:8080/loadgenerator");
            let timeframe = match spec.get("timeframe") {
                Some((n, p)) => reader.count_of(n, &p, "timeframe", 1),
                None => Some(DEFAULT_TIMEFRAME_MS),
            };
            SinkSettings::Http(HttpSinkSpec {
                url: url?.value,
                timeframe_ms: timeframe?,
                token: reader.opt_string(spec, "token"),
            })
        }
        SinkType::Ui => SinkSettings::Ui,
    };
    Some(SinkSpec {
        settings: At {
            value: settings,
            place,
        },
        id,
        data_source_refs: refs?,
        places: reader.field_places(spec),
    })
}

/// The console's `format:`; a file format the console does not write is refused by name.
fn console_format(reader: &mut Reader, spec: &MapNode) -> Option<ConsoleFormat> {
    if let Some((node, path)) = spec.get("format") {
        if let Value::Str(word) = &node.value {
            // (`jsonl` is the console's `json`: the did-you-mean below says so.)
            let file_only = FileFormat::ALL
                .iter()
                .find(|f| f.name() == word.as_str() && **f != FileFormat::Jsonl);
            if let (Some(format), false) =
                (file_only, ConsoleFormat::words().contains(&word.as_str()))
            {
                reader.error(
                    &path,
                    node.loc,
                    format!("the console cannot write `{}`", format.name()),
                    format!(
                        "the console writes {}; write `{}` with a `file` sink",
                        ConsoleFormat::words().join(", "),
                        format.name()
                    ),
                );
                return None;
            }
        }
    }
    reader.opt_kind(spec, "format", ConsoleFormat::default())
}

/// `columns:`, for a sink whose format is `format` (`csv` when `is_csv`).
fn columns(reader: &mut Reader, spec: &MapNode, format: &str, is_csv: bool) -> Option<ColumnNames> {
    let mut out = ColumnNames::default();
    let Some((node, path)) = spec.get("columns") else {
        return Some(out);
    };
    if !is_csv {
        reader.error(
            &path,
            node.loc,
            format!("`columns` names CSV columns, but this sink writes `{format}`"),
            "remove `columns`, or set `format: csv`",
        );
        return None;
    }
    let obj = reader.obj(node, &path, "`columns`")?;
    reader.deny_unknown(&obj, &names(COLUMN_FIELDS), "`columns`");
    let mut ok = true;
    for (key, value) in obj.entries {
        let slot = match key.name.as_str() {
            "caseid" => &mut out.caseid,
            "activity" => &mut out.activity,
            "timestamp" => &mut out.timestamp,
            "node" => &mut out.node,
            "group" => &mut out.group,
            "emittedAt" => &mut out.emitted_at,
            _ => continue, // reported as unknown
        };
        let at = obj.child(&key.name);
        match reader.string_of(value, &at, &format!("`columns.{}`", key.name)) {
            Some(name) if name.is_empty() => {
                reader.error(
                    &at,
                    value.loc,
                    format!("the column name of `{}` is empty", key.name),
                    "give the column a name",
                );
                ok = false;
            }
            Some(name) => *slot = name,
            None => ok = false,
        }
    }
    // Two fields in one column: a reader would see only one of them.
    let fields = [
        ("caseid", &out.caseid),
        ("activity", &out.activity),
        ("timestamp", &out.timestamp),
        ("node", &out.node),
        ("group", &out.group),
        ("emittedAt", &out.emitted_at),
    ];
    for (i, (field, name)) in fields.iter().enumerate() {
        let Some((other, _)) = fields[..i].iter().find(|(_, n)| n == name) else {
            continue;
        };
        // Pointed at the later of the two if the mapping names it, else at the mapping.
        let (at, loc) = obj
            .entries
            .iter()
            .find(|(k, _)| k.name == *field)
            .or_else(|| obj.entries.iter().find(|(k, _)| k.name == *other))
            .map_or((obj.path.clone(), obj.loc), |(k, v)| {
                (obj.child(&k.name), v.loc)
            });
        reader.error(
            &at,
            loc,
            format!("`{other}` and `{field}` both go to the column `{name}`"),
            "give each field a column of its own",
        );
        ok = false;
    }
    ok.then_some(out)
}

fn kafka(reader: &mut Reader, spec: &MapNode, what: &str) -> Option<KafkaSinkSpec> {
    let servers = reader.req_string(spec, "bootstrapServer", what, "localhost:9092");
    let topic = reader.req_string(spec, "topic", what, "events");
    let client_id = reader.opt_string(spec, "clientId");
    let timeouts = broker_timeouts(reader, spec);
    let partition = match spec.get("partition") {
        None => Some(PartitionSpec::Default),
        Some((n, p)) => partition(reader, n, &p),
    };
    let producer = match spec.get("producer") {
        None => Some(BTreeMap::new()),
        Some((n, p)) => {
            let obj = reader.obj(n, &p, "`producer`")?;
            let mut map = BTreeMap::new();
            for (key, value) in obj.entries {
                let value = match &value.value {
                    Value::Str(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                    Value::Float(x) => x.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        reader.error(
                            &obj.child(&key.name),
                            value.loc,
                            format!(
                                "producer setting `{}` must be a scalar, found {}",
                                key.name,
                                other.kind()
                            ),
                            "librdkafka settings are strings, numbers or booleans",
                        );
                        continue;
                    }
                };
                map.insert(key.name.clone(), value);
            }
            Some(map)
        }
    };
    Some(KafkaSinkSpec {
        bootstrap_server: servers?.value,
        client_id,
        topic: topic?.value,
        partition: partition?,
        producer: producer?,
        connect_timeout_secs: timeouts?.0,
        flush_timeout_secs: timeouts?.1,
    })
}

fn partition(reader: &mut Reader, node: &Node, path: &str) -> Option<PartitionSpec> {
    let obj = reader.obj(node, path, "`partition`")?;
    let (partition_type, _) =
        reader.req_kind::<PartitionType>(&obj, "type", "the partition", "case")?;
    let mut fields = names(PARTITION_COMMON_FIELDS);
    fields.extend(partition_type.fields());
    reader.deny_unknown(
        &obj,
        &fields,
        &format!("a {} partition", partition_type.name()),
    );
    match partition_type {
        PartitionType::Constant => {
            let (n, p) = obj.get("partition").or_else(|| {
                reader.missing(&obj, "partition", "the constant partition", "0");
                None
            })?;
            let partition = reader.count_of(n, &p, "partition", 0)?;
            Some(PartitionSpec::Constant(
                partition.min(i32::MAX as u64) as i32
            ))
        }
        PartitionType::Case => {
            let (n, p) = obj.get("partitionCount").or_else(|| {
                reader.missing(&obj, "partitionCount", "the case partition", "4");
                None
            })?;
            let count = reader.count_of(n, &p, "partitionCount", 1)?;
            Some(PartitionSpec::Case {
                partition_count: count.min(i32::MAX as u64) as i32,
            })
        }
        PartitionType::Default => Some(PartitionSpec::Default),
    }
}

fn mqtt(reader: &mut Reader, spec: &MapNode, what: &str) -> Option<MqttSinkSpec> {
    let host = reader.req_string(spec, "host", what, "localhost");
    let base_topic = reader.req_string(spec, "baseTopic", what, "def");
    let client_id = reader.opt_string(spec, "clientId");
    let process = reader.opt_string(spec, "process");
    let port = reader.opt_count(spec, "port", 1);
    let qos = reader.opt_count(spec, "qos", 0);
    let timeouts = broker_timeouts(reader, spec);
    let mut ok = true;
    let mut problem = |reader: &mut Reader, key: &str, message: String, help: &str| {
        if let Some((node, path)) = spec.get(key) {
            reader.error(&path, node.loc, message, help);
        }
        ok = false;
    };
    if let Some(host) = &host {
        let host = &host.value;
        // `host:port` (one colon: not an IPv6 address) is a common slip.
        let port_in_host = host
            .split_once(':')
            .filter(|(_, p)| !p.contains(':') && p.parse::<u16>().is_ok());
        if host.is_empty() {
            problem(
                reader,
                "host",
                "`host` is empty".into(),
                "write the broker's host name, e.g. `localhost`",
            );
        } else if let Some((name, port)) = port_in_host {
            problem(
                reader,
                "host",
                format!("`host` `{host}` includes a port"),
                &format!("write `host: {name}` and `port: {port}`"),
            );
        }
    }
    let port = match port {
        Some(Some(p)) if p > 65535 => {
            problem(
                reader,
                "port",
                format!("`port` is {p}, above 65535"),
                "use a TCP port from 1 to 65535",
            );
            None
        }
        other => other.map(|p| p.unwrap_or(DEFAULT_MQTT_PORT) as u16),
    };
    let qos = match qos {
        Some(Some(q)) if q > 2 => {
            problem(
                reader,
                "qos",
                format!("`qos` is {q}; MQTT's qualities of service are 0, 1 and 2"),
                "use 1 (at least once, acknowledged), 2 (exactly once) or 0 (not acknowledged)",
            );
            None
        }
        other => other.map(|q| q.unwrap_or(DEFAULT_MQTT_QOS) as u8),
    };
    if let Some(base) = &base_topic {
        if let Some(message) = base_topic_problem(&base.value) {
            problem(
                reader,
                "baseTopic",
                message,
                "use topic levels such as `def` or `factory/line1`",
            );
        }
    }
    if client_id.as_deref() == Some("") {
        problem(
            reader,
            "clientId",
            "`clientId` is empty".into(),
            "leave `clientId` out for a generated one, or name the client",
        );
    }
    if process.as_deref() == Some("") {
        problem(
            reader,
            "process",
            "`process` is empty".into(),
            "leave `process` out to use the simulation's name, or name the process",
        );
    }
    if !ok {
        return None;
    }
    Some(MqttSinkSpec {
        host: host?.value,
        port: port?,
        client_id,
        qos: qos?,
        base_topic: base_topic?.value,
        process,
        connect_timeout_secs: timeouts?.0,
        flush_timeout_secs: timeouts?.1,
    })
}
