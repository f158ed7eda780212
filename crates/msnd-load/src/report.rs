//! The outcome of a run: machine, parameters, measured results, latency
//! percentiles and errors, printed as a table or as JSON. Everything in a
//! report was measured by the run that produced it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::metrics::Summary;
use crate::sys::Machine;

#[derive(Clone, Debug)]
pub struct Report {
    pub scenario: String,
    pub machine: Machine,
    params: Vec<(String, Value)>,
    results: Vec<(String, Value)>,
    latencies: Vec<(String, Summary)>,
    errors: BTreeMap<String, u64>,
    notes: Vec<String>,
}

impl Report {
    pub fn new(scenario: &str, machine: Machine) -> Report {
        Report {
            scenario: scenario.to_owned(),
            machine,
            params: Vec::new(),
            results: Vec::new(),
            latencies: Vec::new(),
            errors: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    pub fn param(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.params.push((key.to_owned(), value.into()));
        self
    }

    /// A measured value. Keys carry their unit (`logins_per_sec`,
    /// `server_rss_delta_kib`).
    pub fn result(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.results.push((key.to_owned(), value.into()));
        self
    }

    /// A rate rounded to one decimal.
    pub fn rate(&mut self, key: &str, count: u64, secs: f64) -> &mut Self {
        let v = if secs > 0.0 {
            round(count as f64 / secs, 1)
        } else {
            0.0
        };
        self.result(key, v)
    }

    pub fn latency(&mut self, name: &str, summary: Summary) -> &mut Self {
        self.latencies.push((name.to_owned(), summary));
        self
    }

    pub fn errors(&mut self, errors: BTreeMap<String, u64>) -> &mut Self {
        for (k, v) in errors {
            *self.errors.entry(k).or_default() += v;
        }
        self
    }

    pub fn note(&mut self, text: impl Into<String>) -> &mut Self {
        self.notes.push(text.into());
        self
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.results.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn to_json(&self) -> Value {
        let obj = |pairs: &[(String, Value)]| -> Value {
            Value::Object(pairs.iter().cloned().collect::<Map<_, _>>())
        };
        let latency: Map<String, Value> = self
            .latencies
            .iter()
            .map(|(name, s)| {
                (
                    name.clone(),
                    json!({
                        "count": s.count,
                        "min_us": us(s.min_ns),
                        "mean_us": us(s.mean_ns),
                        "p50_us": us(s.p50_ns),
                        "p90_us": us(s.p90_ns),
                        "p99_us": us(s.p99_ns),
                        "p99_9_us": us(s.p999_ns),
                        "max_us": us(s.max_ns),
                    }),
                )
            })
            .collect();
        json!({
            "scenario": self.scenario,
            "machine": self.machine.to_json(),
            "parameters": obj(&self.params),
            "results": obj(&self.results),
            "latency": latency,
            "errors": self.errors,
            "notes": self.notes,
        })
    }

    /// The human-readable form.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let m = &self.machine;
        let _ = writeln!(s, "msnd-load {}", self.scenario);
        let _ = writeln!(
            s,
            "machine: {} | {} cores | Linux {} | {} MiB RAM",
            m.cpu_model, m.cores, m.kernel, m.memory_mib
        );
        let width = self
            .params
            .iter()
            .chain(&self.results)
            .map(|(k, _)| k.len())
            .max()
            .unwrap_or(0)
            .max(20);
        let _ = writeln!(s, "\nparameters");
        for (k, v) in &self.params {
            let _ = writeln!(s, "  {k:<width$}  {}", show(v));
        }
        let _ = writeln!(s, "\nresults");
        for (k, v) in &self.results {
            let _ = writeln!(s, "  {k:<width$}  {:>14}", show(v));
        }
        if !self.latencies.is_empty() {
            let lw = self
                .latencies
                .iter()
                .map(|(n, _)| n.len())
                .max()
                .unwrap_or(0)
                .max(12);
            let _ = writeln!(
                s,
                "\nlatency (ms)\n  {:<lw$} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
                "", "count", "p50", "p90", "p99", "p99.9", "max", "mean"
            );
            for (name, l) in &self.latencies {
                let _ = writeln!(
                    s,
                    "  {name:<lw$} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
                    l.count,
                    ms(l.p50_ns),
                    ms(l.p90_ns),
                    ms(l.p99_ns),
                    ms(l.p999_ns),
                    ms(l.max_ns),
                    ms(l.mean_ns)
                );
            }
        }
        let _ = writeln!(s, "\nerrors");
        if self.errors.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for (k, v) in &self.errors {
            let _ = writeln!(s, "  {k:<width$}  {v:>14}");
        }
        if !self.notes.is_empty() {
            let _ = writeln!(s, "\nnotes");
            for n in &self.notes {
                let _ = writeln!(s, "  - {n}");
            }
        }
        s
    }
}

/// Rounds to `digits` decimals (for readable JSON).
pub fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

fn us(ns: u64) -> f64 {
    round(ns as f64 / 1_000.0, 1)
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1_000_000.0)
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Machine {
        Machine {
            cpu_model: "Test CPU".into(),
            cores: 2,
            kernel: "6.0".into(),
            memory_mib: 1024,
        }
    }

    fn sample() -> Report {
        let mut r = Report::new("login", machine());
        r.param("users", 100).param("ns", "127.0.0.1:1864");
        r.result("logins", 2500u64)
            .rate("logins_per_sec", 2500, 2.0);
        r.latency(
            "login",
            Summary {
                count: 2500,
                min_ns: 100_000,
                mean_ns: 800_000,
                p50_ns: 750_000,
                p90_ns: 1_200_000,
                p99_ns: 2_500_000,
                p999_ns: 4_000_000,
                max_ns: 9_999_000,
            },
        );
        let mut e = BTreeMap::new();
        e.insert("timeout".to_owned(), 2);
        r.errors(e);
        r.note("a note");
        r
    }

    #[test]
    fn json_shape_and_order() {
        let j = sample().to_json();
        assert_eq!(j["scenario"], "login");
        assert_eq!(j["machine"]["cores"], 2);
        assert_eq!(j["parameters"]["users"], 100);
        assert_eq!(j["results"]["logins_per_sec"], 1250.0);
        assert_eq!(j["latency"]["login"]["p99_us"], 2500.0);
        assert_eq!(j["latency"]["login"]["p99_9_us"], 4000.0);
        assert_eq!(j["errors"]["timeout"], 2);
        let keys: Vec<_> = j["results"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["logins", "logins_per_sec"], "insertion order kept");
    }

    #[test]
    fn table_lists_everything() {
        let r = sample();
        let t = r.to_table();
        assert!(t.starts_with("msnd-load login\n"));
        assert!(t.contains("Test CPU | 2 cores | Linux 6.0"));
        assert!(t.contains("ns                    127.0.0.1:1864"), "{t}");
        assert!(t.contains("1250.0"));
        // p50 p90 p99 p99.9 max in ms
        assert!(
            t.contains("0.750     1.200     2.500     4.000     9.999"),
            "{t}"
        );
        assert!(t.contains("timeout"));
        assert!(t.contains("- a note"));
        assert_eq!(r.error_total(), 2);
        assert_eq!(r.get("logins"), Some(&Value::from(2500u64)));
    }

    #[test]
    fn empty_errors_say_none_and_zero_time_rate_is_zero() {
        let mut r = Report::new("idle", machine());
        r.rate("x_per_sec", 10, 0.0);
        assert_eq!(r.get("x_per_sec"), Some(&Value::from(0.0)));
        assert!(r.to_table().contains("errors\n  none"));
    }
}
