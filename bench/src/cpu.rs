//! CPU time of the server, the load generator and PostgreSQL, read from
//! /proc: who used the two cores during a scenario.

use std::time::Instant;

#[derive(Debug, Clone, Copy, Default)]
pub struct Spent {
    pub wall_ms: f64,
    pub server_ms: f64,
    pub generator_ms: f64,
    pub postgres_ms: f64,
}

pub struct Usage {
    at: Instant,
    server: f64,
    generator: f64,
    postgres: f64,
}

/// utime + stime of a process and every process below it (PostGraphile's
/// cluster workers are children of its primary), in ms.
fn tree_ms(root: u32) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0.0 };
    let mut parents = std::collections::HashMap::new();
    for pid in entries.flatten().filter_map(|e| e.file_name().into_string().ok()) {
        if let Some(ppid) = parent_of(&pid) {
            parents.insert(pid.parse::<u32>().unwrap_or(0), ppid);
        }
    }
    let descends = |mut pid: u32| {
        for _ in 0..32 {
            if pid == root {
                return true;
            }
            match parents.get(&pid) {
                Some(&ppid) if ppid != 0 => pid = ppid,
                _ => return false,
            }
        }
        false
    };
    parents.keys().filter(|&&pid| descends(pid)).filter_map(|pid| process_ms(&pid.to_string())).sum()
}

fn parent_of(pid: &str) -> Option<u32> {
    if !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime of a process (all its threads), in ms.
fn process_ms(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0) // USER_HZ is 100 on Linux
}

fn postgres_ms() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0.0 };
    entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres"))
        .filter_map(|pid| process_ms(&pid))
        .sum()
}

impl Usage {
    pub fn now(server_pid: u32) -> Usage {
        Usage {
            at: Instant::now(),
            server: tree_ms(server_pid),
            generator: process_ms("self").unwrap_or(0.0),
            postgres: postgres_ms(),
        }
    }

    pub fn since(&self, earlier: &Usage) -> Spent {
        Spent {
            wall_ms: (self.at - earlier.at).as_secs_f64() * 1e3,
            server_ms: self.server - earlier.server,
            generator_ms: self.generator - earlier.generator,
            postgres_ms: self.postgres - earlier.postgres,
        }
    }
}
