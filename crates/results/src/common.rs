//! What both results files share: the ordered map, the machine, the workload, the timestamp.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ResultsError;
use crate::check::Fields;
use crate::json::invalid;

/// A JSON object whose keys keep **the order they have in the file** (a stage table reads in
/// pipeline order). Duplicate keys are an error.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(std::marker::PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = OrderedMap<V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::new();
                while let Some((key, value)) = access.next_entry::<String, V>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    entries.push((key, value));
                }
                Ok(OrderedMap(entries))
            }
        }

        deserializer.deserialize_map(OrderedVisitor(std::marker::PhantomData))
    }
}

/// The machine a run was made on. The docs print all six required fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name (`/proc/cpuinfo` "model name").
    pub cpu_model: String,
    /// Logical cores available to the run.
    pub cores: u32,
    /// Total memory in GB.
    pub memory_gb: f64,
    /// Operating system, e.g. `Debian GNU/Linux 13 (x86_64)`.
    pub os: String,
    /// wgpu adapter name (e.g. `llvmpipe (LLVM 19.1.7, 256 bits)`), or a note that none was used.
    pub adapter: String,
    /// wgpu backend (`Vulkan`, `Gl`, …) or `cpu` for the CPU reference.
    pub backend: String,
    /// wgpu device type (`Cpu`, `DiscreteGpu`, …), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// Driver name and version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
}

/// Size of a profiled or benchmarked workload. Fields beyond the four required ones (sources,
/// window, features, …) are kept in `extra`, in key order, and printed as `key=value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// Workload name from DOMAIN.md (`small`, `standard`, `full`, `plan-profile`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Number of cameras taking part.
    pub cameras: u32,
    /// Number of depth hypotheses.
    pub depths: u32,
    /// Other parameters, printed as they are.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Checks `s` is UTC RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
pub fn is_utc_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let fraction = &b[19..b.len() - 1];
    let fraction_ok = fraction.is_empty()
        || (fraction.len() >= 2
            && fraction[0] == b'.'
            && fraction[1..].iter().all(u8::is_ascii_digit));
    shape && fraction_ok
}

/// The checks both files need: a UTC timestamp and a described machine.
pub(crate) fn check_common(
    what: &str,
    generated_at: &str,
    machine: &Machine,
) -> Result<(), ResultsError> {
    if !is_utc_timestamp(generated_at) {
        return Err(invalid(
            what,
            format!(
                "generated_at `{generated_at}` is not UTC RFC 3339 (like 2026-03-01T12:00:00Z)"
            ),
        ));
    }
    let f = Fields::new(what);
    f.count("machine.cores", machine.cores.into())?;
    f.positive("machine.memory_gb", machine.memory_gb, 1e6, " GB")?;
    f.named("machine.cpu_model", &machine.cpu_model)?;
    f.named("machine.adapter", &machine.adapter)?;
    f.named("machine.backend", &machine.backend)
}

impl Workload {
    /// Checks every size is at least 1; `field` names the workload in errors.
    pub(crate) fn check(&self, f: &Fields, field: &str) -> Result<(), ResultsError> {
        for (name, value) in [
            ("width", self.width),
            ("height", self.height),
            ("cameras", self.cameras),
            ("depths", self.depths),
        ] {
            f.count(&format!("{field}.{name}"), value.into())?;
        }
        Ok(())
    }
}

/// A UTC RFC 3339 timestamp with whole seconds (`2026-11-28T13:40:00Z`), the form of every
/// `generated_at`, for `secs` seconds after the Unix epoch.
pub fn utc_timestamp(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod timestamp_tests {
    #[test]
    fn civil_dates_and_timestamps() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_785), (2026, 11, 28));
        assert_eq!(super::civil_from_days(11_016), (2000, 2, 29));
        let t = super::utc_timestamp(20_785 * 86_400 + 13 * 3600 + 40 * 60 + 5);
        assert_eq!(t, "2026-11-28T13:40:05Z");
        assert!(super::is_utc_timestamp(&t));
    }
}
