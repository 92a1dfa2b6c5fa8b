//! Facts about this machine read from the file system (`/proc`, `/etc/os-release`), for the
//! `machine` block of results files and for memory checks before large work. Linux first;
//! elsewhere each fact falls back to what the standard library knows.

/// The host's CPU, cores, memory and operating system.
#[derive(Debug, Clone, PartialEq)]
pub struct HostFacts {
    /// CPU model name (`/proc/cpuinfo`), or the architecture.
    pub cpu_model: String,
    /// Logical cores available to this process.
    pub cores: u32,
    /// Total memory, GB (GiB), one decimal; 0 when unknown.
    pub memory_gb: f64,
    /// Operating system and architecture, e.g. `Debian GNU/Linux 12 (bookworm) (x86_64)`.
    pub os: String,
}

/// Reads the facts (never fails: unknown facts get fallbacks).
pub fn host_facts() -> HostFacts {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let memory_gb = meminfo_kb("MemTotal:").map_or(0.0, |kb| {
        (kb as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0
    });
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    HostFacts {
        cpu_model,
        cores,
        memory_gb,
        os: format!("{os} ({})", std::env::consts::ARCH),
    }
}

/// Memory a command may use, bytes, and where the figure comes from: the environment variable
/// `AQUAMVS_MEMORY_LIMIT` (bytes) if set, else `MemAvailable` of `/proc/meminfo`, else a fixed
/// 8 GiB.
pub fn memory_available() -> (u64, &'static str) {
    let env = std::env::var("AQUAMVS_MEMORY_LIMIT").ok();
    match (
        env.and_then(|v| v.trim().parse().ok()),
        meminfo_kb("MemAvailable:"),
    ) {
        (Some(bytes), _) => (bytes, "AQUAMVS_MEMORY_LIMIT"),
        (None, Some(kb)) => (kb * 1024, "MemAvailable"),
        (None, None) => (8 << 30, "a fixed cap"),
    }
}

/// A `/proc/meminfo` line's value in kB.
fn meminfo_kb(key: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/meminfo")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn facts_are_filled_in() {
        let f = super::host_facts();
        assert!(f.cores >= 1 && !f.cpu_model.is_empty() && !f.os.is_empty());
        let (bytes, source) = super::memory_available();
        assert!(bytes > 0 && !source.is_empty());
    }
}
