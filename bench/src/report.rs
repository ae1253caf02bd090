//! Figures, their targets, and how they are printed: a readable table or JSON.
//!
//! Every figure keeps one sample per run, so the table shows the median and the spread across
//! runs: on a shared 2-core machine one run alone says little.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use hdrhistogram::Histogram;
use serde::Serialize;

/// What a figure must be to meet its target.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    AtLeast(f64),
    AtMost(f64),
}

impl Target {
    fn met_by(self, value: f64) -> bool {
        match self {
            Target::AtLeast(bound) => value >= bound,
            Target::AtMost(bound) => value <= bound,
        }
    }

    fn describe(self) -> String {
        match self {
            Target::AtLeast(bound) => format!(">= {}", number(bound)),
            Target::AtMost(bound) => format!("<= {}", number(bound)),
        }
    }
}

/// One measured quantity, with one sample per run.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub benchmark: &'static str,
    pub name: String,
    pub unit: &'static str,
    pub samples: Vec<f64>,
    pub target: Option<Target>,
}

impl Figure {
    pub fn new(benchmark: &'static str, name: impl Into<String>, unit: &'static str) -> Figure {
        Figure {
            benchmark,
            name: name.into(),
            unit,
            samples: Vec::new(),
            target: None,
        }
    }

    pub fn target(mut self, target: Target) -> Figure {
        self.target = Some(target);
        self
    }

    pub fn median(&self) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        match sorted.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }

    fn verdict(&self) -> &'static str {
        match self.target {
            None => "",
            Some(target) if target.met_by(self.median()) => "met",
            Some(_) => "MISSED",
        }
    }
}

/// The figures of one benchmark, filled run by run in the order they are first recorded.
#[derive(Debug, Default)]
pub struct Figures {
    figures: Vec<Figure>,
}

impl Figures {
    /// Adds a sample to the figure named like `template`, creating it on its first sample.
    pub fn record(&mut self, template: Figure, value: f64) {
        match self
            .figures
            .iter_mut()
            .find(|f| f.benchmark == template.benchmark && f.name == template.name)
        {
            Some(figure) => figure.samples.push(value),
            None => {
                let mut figure = template;
                figure.samples.push(value);
                self.figures.push(figure);
            }
        }
    }

    pub fn extend(&mut self, other: Figures) {
        self.figures.extend(other.figures);
    }

    pub fn table(&self) -> String {
        let header = [
            "benchmark",
            "figure",
            "median",
            "unit",
            "runs",
            "target",
            "",
        ];
        let rows: Vec<[String; 7]> = self
            .figures
            .iter()
            .map(|f| {
                let runs = f
                    .samples
                    .iter()
                    .map(|&v| number(v))
                    .collect::<Vec<_>>()
                    .join(" / ");
                [
                    f.benchmark.to_string(),
                    f.name.clone(),
                    number(f.median()),
                    f.unit.to_string(),
                    runs,
                    f.target.map(Target::describe).unwrap_or_default(),
                    f.verdict().to_string(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let text: Vec<String> = cells
                .iter()
                .zip(widths)
                .enumerate()
                .map(|(i, (cell, width))| match i {
                    // Numbers line up on the right.
                    2 => format!("{cell:>width$}"),
                    _ => format!("{cell:<width$}"),
                })
                .collect();
            let _ = writeln!(out, "{}", text.join("  ").trim_end());
        };
        line(&header.map(String::from));
        for row in &rows {
            line(row);
        }
        out
    }

    pub fn json(&self) -> anyhow::Result<String> {
        let figures: Vec<serde_json::Value> = self
            .figures
            .iter()
            .map(|f| {
                let mut value = serde_json::to_value(f)?;
                value["median"] = serde_json::json!(f.median());
                value["met"] = match f.verdict() {
                    "" => serde_json::Value::Null,
                    verdict => serde_json::json!(verdict == "met"),
                };
                Ok(value)
            })
            .collect::<Result<_, serde_json::Error>>()
            .context("cannot encode the figures as JSON")?;
        serde_json::to_string_pretty(&serde_json::json!({
            "machine": Machine::describe(),
            "figures": figures,
        }))
        .context("cannot encode the figures as JSON")
    }
}

/// Readable number: thousands separated, at most three decimals, fewer for large values.
fn number(value: f64) -> String {
    if !value.is_finite() {
        return "-".to_string();
    }
    let decimals = match value.abs() {
        v if v >= 1000.0 => 0,
        v if v >= 100.0 => 1,
        v if v >= 1.0 => 2,
        _ => 3,
    };
    let text = format!("{value:.decimals$}");
    let (integer, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let (sign, digits) = integer
        .strip_prefix('-')
        .map_or(("", integer), |rest| ("-", rest));
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

/// Latency samples in microseconds, 1 µs to 10 minutes at 3 significant digits.
pub struct Latencies(Histogram<u64>);

impl Latencies {
    pub fn new() -> anyhow::Result<Latencies> {
        Histogram::new_with_bounds(1, 600_000_000, 3)
            .map(Latencies)
            .context("cannot create a latency histogram")
    }

    pub fn record(&mut self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(micros.max(1));
    }

    /// The `quantile` (0.0–1.0) in milliseconds.
    pub fn millis(&self, quantile: f64) -> f64 {
        self.0.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// The `quantile` (0.0–1.0) in microseconds.
    pub fn micros(&self, quantile: f64) -> f64 {
        self.0.value_at_quantile(quantile) as f64
    }
}

/// The machine the figures come from, for the report.
#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
    pub load_average: String,
    pub started: String,
}

impl Machine {
    pub fn describe() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
            .unwrap_or_else(|| "unknown".into());
        let memory = read("/proc/meminfo")
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .map(|rest| rest.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let load_average = read("/proc/loadavg")
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            cpu_model,
            memory,
            load_average,
            started: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    pub fn summary(&self) -> String {
        format!(
            "machine: {} CPUs ({}), {} memory, load average {} at {}",
            self.cpus, self.cpu_model, self.memory, self.load_average, self.started
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_rounded() {
        assert_eq!(number(23456.7), "23,457");
        assert_eq!(number(1234567.0), "1,234,567");
        assert_eq!(number(512.34), "512.3");
        assert_eq!(number(4.56789), "4.57");
        assert_eq!(number(0.01234), "0.012");
        assert_eq!(number(-2500.0), "-2,500");
        assert_eq!(number(f64::NAN), "-");
    }

    #[test]
    fn median_and_verdict_follow_the_samples() {
        let mut figures = Figures::default();
        let template = || Figure::new("b", "f", "x").target(Target::AtMost(10.0));
        for value in [12.0, 8.0, 9.0] {
            figures.record(template(), value);
        }
        let figure = &figures.figures[0];
        assert_eq!(figure.median(), 9.0);
        assert_eq!(figure.verdict(), "met");
        assert!(figures.table().contains("8.00 / 9.00"));
    }
}
