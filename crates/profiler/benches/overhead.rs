//! Profiler overhead on real GPU work: a pipeline-shaped run (5 stages, each submitting 4
//! dispatches of a long WGSL loop and waiting for them) with and without the profiler (one
//! scope per stage, one nested scope per dispatch, `finish()` included), rounds interleaved,
//! medians compared. Also the cost of one empty scope.
//!
//! `cargo bench -p aquamvs-profiler --bench overhead` (add `-- --quick` for fewer rounds).

use std::time::{Duration, Instant};

use aquamvs_gpu::{GpuContext, GpuOptions, wait_idle};
use aquamvs_profiler::{BusyKernel, Profiler};

const STAGES: usize = 5;
const DISPATCHES: usize = 4;

/// The workspace's one median.
fn median(v: &mut [f64]) -> f64 {
    aquamvs_metrics::median(v).unwrap_or(f64::NAN)
}

fn run_bare(ctx: &GpuContext, kernel: &BusyKernel, iterations: u32) -> f64 {
    let t = Instant::now();
    for _ in 0..STAGES {
        for _ in 0..DISPATCHES {
            kernel.submit(&ctx.device, &ctx.queue, iterations);
        }
        wait_idle(&ctx.device);
    }
    t.elapsed().as_secs_f64() * 1000.0
}

/// One profiled run: wall ms (finish included) and summed top-level stage GPU ms.
struct Profiled {
    wall_ms: f64,
    gpu_ms: f64,
}

fn run_profiled(ctx: &GpuContext, kernel: &BusyKernel, iterations: u32, gpu: bool) -> Profiled {
    let mut prof = if gpu {
        Profiler::for_context(ctx)
    } else {
        Profiler::cpu_only()
    };
    let names = [
        "undistortion",
        "sparse_matching",
        "depth_estimation",
        "fusion",
        "surface",
    ];
    let t = Instant::now();
    for name in names.iter().take(STAGES) {
        prof.span(name, |prof| {
            for _ in 0..DISPATCHES {
                prof.span("dispatch", |_| {
                    kernel.submit(&ctx.device, &ctx.queue, iterations)
                });
            }
            wait_idle(&ctx.device);
        });
    }
    let report = prof.finish();
    let wall_ms = t.elapsed().as_secs_f64() * 1000.0;
    let gpu_ms = report
        .stages
        .iter()
        .filter(|s| s.depth == 0)
        .filter_map(|s| s.gpu_time_ms)
        .sum();
    Profiled { wall_ms, gpu_ms }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let ctx = match GpuContext::new(&GpuOptions::default()) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("overhead benchmark needs a GPU adapter: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "adapter: {} ({}), timestamps: {}",
        ctx.adapter_name(),
        ctx.backend_name(),
        ctx.has_timestamps()
    );
    let kernel = BusyKernel::new(&ctx.device);

    // Profiler creation (clock calibration), outside the measured runs.
    let t = Instant::now();
    let p = Profiler::for_context(&ctx);
    println!(
        "Profiler::new (calibration): {:.2} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    drop(p.finish());

    // Cost of an empty scope (no GPU work inside, idle queue).
    let mut scope_cost_ms = 0.0;
    for gpu in [true, false] {
        let n = 2000;
        let mut prof = if gpu {
            Profiler::for_context(&ctx)
        } else {
            Profiler::cpu_only()
        };
        let t = Instant::now();
        for _ in 0..n {
            let s = prof.begin("empty");
            prof.end(s).unwrap();
        }
        let scopes = t.elapsed();
        let t = Instant::now();
        let report = prof.finish();
        let finish = t.elapsed();
        if gpu {
            scope_cost_ms = (scopes + finish).as_secs_f64() * 1000.0 / n as f64;
        }
        println!(
            "empty scope ({}): {:.1} µs per begin+end, finish {:.2} ms for {n} scopes",
            report.timing_source.as_str(),
            scopes.as_secs_f64() * 1e6 / n as f64,
            finish.as_secs_f64() * 1000.0
        );
    }

    let rounds = if quick { 5 } else { 21 };
    println!(
        "\n{STAGES} stages x {DISPATCHES} dispatches, {rounds} interleaved rounds, \
         {} scopes per profiled run",
        STAGES * (DISPATCHES + 1)
    );
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "stage",
        "bare",
        "gpu-ts",
        "cpu-only",
        "gpu-ts",
        "gpu-ts",
        "cpu-only",
        "cpu-only",
        "gpu-ts",
        "gpu/wall"
    );
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "ms",
        "min ms",
        "min ms",
        "min ms",
        "paired",
        "of mins",
        "paired",
        "of mins",
        "estimate",
        ""
    );
    for stage_ms in [10u64, 40, 150] {
        let per_dispatch = Duration::from_millis(stage_ms) / DISPATCHES as u32;
        let iterations = kernel.iterations_for(&ctx.device, &ctx.queue, per_dispatch);
        let rounds = if stage_ms >= 150 {
            rounds.min(9)
        } else {
            rounds
        };
        // Warm-up.
        run_bare(&ctx, &kernel, iterations);
        run_profiled(&ctx, &kernel, iterations, true);
        let (mut bare, mut ts, mut cpu) = (vec![], vec![], vec![]);
        let (mut ts_ratio, mut cpu_ratio, mut gpu_wall) = (vec![], vec![], vec![]);
        for round in 0..rounds {
            // Rotate the order of the three variants so none always runs first.
            let mut times = [0.0f64; 3];
            for k in 0..3 {
                let variant = (round + k) % 3;
                times[variant] = match variant {
                    0 => run_bare(&ctx, &kernel, iterations),
                    1 => {
                        let p = run_profiled(&ctx, &kernel, iterations, true);
                        gpu_wall.push(p.gpu_ms / p.wall_ms);
                        p.wall_ms
                    }
                    _ => run_profiled(&ctx, &kernel, iterations, false).wall_ms,
                };
            }
            bare.push(times[0]);
            ts.push(times[1]);
            cpu.push(times[2]);
            ts_ratio.push(times[1] / times[0]);
            cpu_ratio.push(times[2] / times[0]);
        }
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        let (b, t, c) = (min(&bare), min(&ts), min(&cpu));
        let pct = |r: f64| format!("{:+.2}%", (r - 1.0) * 100.0);
        println!(
            "{:>8} {:>9.2} {:>9.2} {:>9.2} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9.3}",
            stage_ms,
            b,
            t,
            c,
            pct(median(&mut ts_ratio)),
            pct(t / b),
            pct(median(&mut cpu_ratio)),
            pct(c / b),
            format!(
                "{:.2}%",
                scope_cost_ms * (STAGES * (DISPATCHES + 1)) as f64 / b * 100.0
            ),
            median(&mut gpu_wall)
        );
    }
    println!(
        "\npaired = median over rounds of (profiled run / bare run of the same round) - 1; \
         of mins = fastest profiled run / fastest bare run - 1 (the least disturbed runs);\n\
         negative values are noise of a busy machine; estimate = cost of an empty GPU scope on an idle \
         queue (begin + end + its share of finish, measured above, so as loaded as the machine \
         was then) x scopes per run / fastest bare run;\ngpu/wall = summed top-level stage GPU \
         time / run wall time (median)"
    );
}
