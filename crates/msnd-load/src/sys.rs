//! What the operating system tells about this machine and about the server
//! process: `/proc` files and the open-file limit.

use std::fs;
use std::io;

use serde_json::{Value, json};

/// The machine a run happened on, printed with every report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    pub cpu_model: String,
    /// Logical CPUs the kernel lists.
    pub cores: usize,
    pub kernel: String,
    pub memory_mib: u64,
}

impl Machine {
    pub fn detect() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let (cpu_model, cores) = parse_cpuinfo(&cpuinfo);
        let cores = if cores == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            cores
        };
        Machine {
            cpu_model,
            cores,
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| "unknown".into()),
            memory_mib: status_field_kib(&meminfo, "MemTotal:").unwrap_or(0) / 1024,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "cpu_model": self.cpu_model,
            "cores": self.cores,
            "kernel": self.kernel,
            "memory_mib": self.memory_mib,
        })
    }
}

/// The CPU model name and the number of processors in `/proc/cpuinfo`.
pub fn parse_cpuinfo(text: &str) -> (String, usize) {
    let mut model = None;
    let mut count = 0;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key.trim() {
            "processor" => count += 1,
            "model name" if model.is_none() => model = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    (model.unwrap_or_else(|| "unknown".into()), count)
}

/// A `Name:   123 kB` field of `/proc/<pid>/status` or `/proc/meminfo`, in KiB.
pub fn status_field_kib(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Resident set size of a process, KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    status_field_kib(&status, "VmRSS:")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmRSS line"))
}

/// CPU time (user + system) a process has used so far, seconds.
pub fn cpu_seconds(pid: u32) -> io::Result<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let ticks = parse_stat_cpu_ticks(&stat)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad /proc stat"))?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Ok(ticks as f64 / if hz > 0 { hz as f64 } else { 100.0 })
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line. The
/// command name (field 2) may contain spaces and parentheses, so fields
/// are counted from the last `)`.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // `rest` starts at field 3 (state); utime is field 14.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Busy and total CPU time of the whole machine so far (`/proc/stat`), in
/// seconds summed over all cores.
pub fn machine_cpu_seconds() -> io::Result<(f64, f64)> {
    let stat = fs::read_to_string("/proc/stat")?;
    let (busy, total) = parse_proc_stat(&stat)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad /proc/stat"))?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as f64 } else { 100.0 };
    Ok((busy as f64 / hz, total as f64 / hz))
}

/// Busy and total ticks of the aggregate `cpu` line (idle and iowait are
/// not busy; guest time is already inside user time).
pub fn parse_proc_stat(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    if v.len() < 5 {
        return None;
    }
    let total: u64 = v.iter().sum();
    let idle = v[3] + v[4];
    Some((total - idle, total))
}

/// The generator's own process id.
pub fn own_pid() -> u32 {
    std::process::id()
}

/// Raises the soft limit on open files to the hard limit; returns the
/// limit now in force.
pub fn raise_nofile_limit() -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit within the hard limit.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(io::Error::last_os_error());
        }
        lim = raised;
    }
    Ok(lim.rlim_cur)
}

/// A sample of a process's memory and CPU time.
#[derive(Clone, Copy, Debug)]
pub struct ProcSample {
    pub rss_kib: u64,
    pub cpu_secs: f64,
}

impl ProcSample {
    pub fn take(pid: u32) -> io::Result<ProcSample> {
        Ok(ProcSample {
            rss_kib: rss_kib(pid)?,
            cpu_secs: cpu_seconds(pid)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_model_and_count() {
        let text = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: a b\n\n\
                    processor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(parse_cpuinfo(text), ("AMD EPYC 7B13".to_owned(), 2));
        assert_eq!(parse_cpuinfo(""), ("unknown".to_owned(), 0));
    }

    #[test]
    fn status_fields() {
        let text = "Name:\tmsnd\nVmPeak:\t  20000 kB\nVmRSS:\t   12345 kB\n";
        assert_eq!(status_field_kib(text, "VmRSS:"), Some(12345));
        assert_eq!(status_field_kib(text, "VmSwap:"), None);
    }

    #[test]
    fn stat_cpu_ticks_survive_odd_names() {
        let stat = "4242 (tokio (w) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 50 0 0 20 0 3 0 100 1000000 300 18446744073709551615";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(300));
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
    }

    #[test]
    fn proc_stat_busy_time() {
        let stat = "cpu  100 5 50 1000 20 3 2 7 0 0\ncpu0 50 2 25 500 10 1 1 3 0 0\n";
        // busy = user+nice+system+irq+softirq+steal, idle+iowait excluded
        assert_eq!(parse_proc_stat(stat), Some((167, 1187)));
        assert_eq!(parse_proc_stat("intr 1 2"), None);
    }

    #[test]
    fn own_process_is_readable() {
        let pid = own_pid();
        assert!(rss_kib(pid).unwrap() > 0);
        assert!(cpu_seconds(pid).unwrap() >= 0.0);
        assert!(raise_nofile_limit().unwrap() > 0);
        let (busy, total) = machine_cpu_seconds().unwrap();
        assert!(busy <= total && total > 0.0);
    }
}
