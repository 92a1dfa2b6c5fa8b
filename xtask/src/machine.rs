//! Facts about the machine a run is made on, for `.benchmarks/*.json`: CPU model, cores,
//! memory, OS (`aquamvs_io::host_facts`), adapter and backend — and the UTC timestamp and
//! command line of the run.

use aquamvs_results::Machine;

/// Describes this machine; `gpu` is the adapter used, `None` for a CPU-only run.
pub fn machine(gpu: Option<&aquamvs_gpu::GpuContext>) -> Machine {
    let host = aquamvs_io::host_facts();
    let (adapter, backend, device_type, driver) = match gpu {
        Some(ctx) => {
            let info = ctx.info();
            (
                info.name.clone(),
                format!("{:?}", info.backend),
                Some(format!("{:?}", info.device_type)),
                Some(
                    format!("{} {}", info.driver, info.driver_info)
                        .trim()
                        .to_string(),
                ),
            )
        }
        None => ("none (CPU reference)".into(), "cpu".into(), None, None),
    };
    Machine {
        cpu_model: host.cpu_model,
        cores: host.cores,
        memory_gb: host.memory_gb,
        os: host.os,
        adapter,
        backend,
        device_type,
        driver,
    }
}

/// Now, UTC, RFC 3339 with whole seconds (`2026-11-28T13:40:00Z`).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    aquamvs_results::utc_timestamp(secs)
}

/// The command line of this run, as a user would type it.
pub fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo xtask {}", args.join(" "))
}
