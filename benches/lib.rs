//! Benchmarks live in the `[[bench]]` targets of this package; this library
//! holds what they share: reading the medians criterion wrote in this run
//! and printing each peer's ratio to rtcwire.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where criterion writes its results: the same rule criterion follows,
/// made explicit so the summary reads the files this run wrote.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// The median (ns) criterion measured for `group/name` in this run, if it
/// ran: estimates older than `since` are from an earlier run and ignored.
pub fn median_ns(dir: &Path, group: &str, name: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(group).join(name).join("new").join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// Prints, for each `(group, label)`, every implementation's median from
/// this run and its ratio to the first implementation's (rtcwire's).
pub fn print_ratios(
    dir: &Path,
    since: SystemTime,
    title: &str,
    groups: &[(&str, &str)],
    implementations: &[&str],
) {
    let mut lines = Vec::new();
    for (group, label) in groups {
        let medians: Vec<Option<f64>> = implementations
            .iter()
            .map(|name| median_ns(dir, group, name, since))
            .collect();
        if medians.iter().all(Option::is_none) {
            continue;
        }
        let base = medians.first().copied().flatten();
        for (name, median) in implementations.iter().zip(&medians) {
            let Some(m) = median else { continue };
            let ratio = base.map_or("-".to_owned(), |b| format!("{:.2}x", m / b));
            lines.push(format!("{label:<28} {name:<24} {m:>10.1} {ratio:>10}"));
        }
    }
    if lines.is_empty() {
        // `--test`, `--list`, or a filter that matched nothing: no medians.
        return;
    }
    println!();
    println!("{title}; medians from this run, ratio = median / rtcwire median");
    println!(
        "{:<28} {:<24} {:>10} {:>10}",
        "work", "implementation", "median ns", "ratio"
    );
    for line in lines {
        println!("{line}");
    }
}
