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
            server: process_ms(&server_pid.to_string()).unwrap_or(0.0),
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
