//! The figures: a table on stderr, JSON, and an SVG bar chart.

use serde_json::{Value, json};

use crate::Args;
use crate::fanout::FanOut;
use crate::hostile::Hostile;
use crate::load::ScenarioResult;
use crate::side_by_side::Read;

pub struct Report {
    pub clients: usize,
    pub seconds: u64,
    pub scenarios: Vec<ScenarioResult>,
    /// Scenario `r`: FieldForge computed and PostGraphile 5, alternating.
    pub side_by_side: Vec<Read>,
    pub fanout: FanOut,
    pub hostile: Option<Hostile>,
    pub peak_rss_mib: f64,
    pub final_rss_mib: f64,
}

impl Report {
    pub fn new(
        args: &Args,
        mut scenarios: Vec<ScenarioResult>,
        side_by_side: Vec<Read>,
        fanout: FanOut,
        hostile: Option<Hostile>,
        peak: f64,
        rss: f64,
    ) -> Report {
        if let Some(h) = &hostile {
            scenarios.extend(h.quiet.iter().chain(h.attacked.iter()).cloned());
        }
        Report {
            clients: args.clients,
            seconds: args.seconds,
            scenarios,
            side_by_side,
            fanout,
            hostile,
            peak_rss_mib: peak,
            final_rss_mib: rss,
        }
    }

    pub fn print(&self) {
        eprintln!(
            "\n{:<15} {:>8} {:<15} {:>9} {:>9} {:>11} {:>13} {:>7}",
            "scenario", "rate", "unit", "p50 ms", "p99 ms", "stmts/op", "server CPU ms", "errors"
        );
        for s in &self.scenarios {
            eprintln!(
                "{:<15} {:>8.0} {:<15} {:>9.2} {:>9.2} {:>11} {:>13} {:>7}",
                s.key,
                s.rate,
                s.unit,
                s.p50_ms,
                s.p99_ms,
                s.statements_per_op.map_or("-".into(), |v| format!("{v:.2}")),
                s.server_cpu_ms_per_op.map_or("-".into(), |v| format!("{v:.3}")),
                s.errors
            );
        }
        for read in &self.side_by_side {
            let (ours, peer) = read.median_cpu_ms();
            let rounds: Vec<String> = read.ratios().iter().map(|r| format!("{r:.2}")).collect();
            eprintln!(
                "r         {}: FieldForge computed / PostGraphile 5 = {:.2} (median of rounds {}); server CPU per request {:.3} / {:.3} ms",
                read.name,
                read.median_ratio(),
                rounds.join(", "),
                ours,
                peer
            );
        }
        let f = &self.fanout;
        // Only when `e` ran.
        if f.subscribers > 0 {
            eprintln!(
                "e         {}/{} subscribers complete, {} deliveries, delay p50 {:.1} ms p99 {:.1} ms max {:.1} ms; last delivery {:.1} ms after the burst began",
                f.complete_subscribers, f.subscribers, f.delivered, f.p50_ms, f.p99_ms, f.max_ms, f.last_delivery_ms
            );
            eprintln!(
                "e         CPU from the burst to the last delivery ({:.0} ms): server {:.0} ms, load generator {:.0} ms, PostgreSQL {:.0} ms",
                f.cpu.wall_ms, f.cpu.server_ms, f.cpu.generator_ms, f.cpu.postgres_ms
            );
        }
        if let Some(h) = &self.hostile {
            eprintln!(
                "h         board p99 under attack {:.1}x quiet; server peak RSS during the attack {:.0} MiB; {} logins answered ({} rate limited), {} amplifications refused, {} answered",
                h.p99_ratio().unwrap_or(0.0),
                h.peak_rss_mib,
                h.logins_answered,
                h.logins_rate_limited,
                h.amplifications_refused,
                h.amplifications_answered
            );
        }
        eprintln!("server peak memory {:.0} MiB (final {:.0} MiB)", self.peak_rss_mib, self.final_rss_mib);
    }

    pub fn json(&self) -> Value {
        json!({
            "machine": { "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0) },
            "clients": self.clients,
            "secondsPerScenario": self.seconds,
            "scenarios": self.scenarios.iter().map(|s| json!({
                "key": s.key, "name": s.name, "unit": s.unit, "target": s.target,
                "completed": s.completed, "errors": s.errors, "seconds": s.seconds, "rate": s.rate,
                "p50Ms": s.p50_ms, "p99Ms": s.p99_ms, "statementsPerOperation": s.statements_per_op,
                "serverCpuMsPerOperation": s.server_cpu_ms_per_op,
                "serverRssMib": s.rss_mib,
            })).collect::<Vec<_>>(),
            "sideBySide": self.side_by_side.iter().map(Read::json).collect::<Vec<_>>(),
            "fanout": {
                "subscribers": self.fanout.subscribers, "connected": self.fanout.connected,
                "burst": self.fanout.burst, "deliveries": self.fanout.delivered,
                "subscribersWithEveryEvent": self.fanout.complete_subscribers,
                "delayP50Ms": self.fanout.p50_ms, "delayP99Ms": self.fanout.p99_ms, "delayMaxMs": self.fanout.max_ms,
                "lastDeliveryAfterBurstMs": self.fanout.last_delivery_ms,
                "serverPeakRssMib": self.fanout.peak_rss_mib,
                "cpuDuringBurstMs": {
                    "wall": self.fanout.cpu.wall_ms, "server": self.fanout.cpu.server_ms,
                    "loadGenerator": self.fanout.cpu.generator_ms, "postgres": self.fanout.cpu.postgres_ms,
                },
            },
            "hostile": self.hostile.as_ref().map(|h| json!({
                "boardP99QuietMs": h.quiet.as_ref().map(|q| q.p99_ms),
                "boardP99AttackedMs": h.attacked.as_ref().map(|a| a.p99_ms),
                "p99Ratio": h.p99_ratio(),
                "serverPeakRssMib": h.peak_rss_mib,
                "loginsAnswered": h.logins_answered,
                "loginsRateLimited": h.logins_rate_limited,
                "loginTransportErrors": h.logins_failed_transport,
                "amplificationsRefused": h.amplifications_refused,
                "amplificationsAnswered": h.amplifications_answered,
            })),
            "serverPeakRssMib": self.peak_rss_mib,
        })
    }

    /// Throughput as a share of its target (left, raw figure printed) and
    /// p50/p99 latency (right), per scenario.
    pub fn svg(&self) -> String {
        let target = |key: &str| match key {
            "a" | "a-direct" | "a-fresh" | "a-busy" | "a-postgraphile" => 3000.0,
            "b" | "c" | "b-fresh" | "c-fresh" | "b-direct" | "c-direct" | "b-postgraphile" | "c-postgraphile" => 5000.0,
            "d" => 500.0,
            _ => 1.0,
        };
        let rows: Vec<(String, f64, f64, f64, f64)> = self
            .scenarios
            .iter()
            .map(|s| (format!("{} ({})", s.key, s.unit), s.rate, s.rate / target(s.key), s.p50_ms, s.p99_ms))
            .chain(std::iter::once((
                "e (subscribers with every event)".to_owned(),
                self.fanout.complete_subscribers as f64,
                self.fanout.complete_subscribers as f64 / self.fanout.subscribers.max(1) as f64,
                self.fanout.p50_ms,
                self.fanout.p99_ms,
            )))
            .collect();
        // Bars stop at three times the target (the label gives the figure), so
        // one scenario far past its target does not flatten all the others.
        const SHARE_CAP: f64 = 3.0;
        let max_share = rows.iter().map(|r| r.2.min(SHARE_CAP)).fold(1.0, f64::max);
        let max_ms = rows.iter().map(|r| r.4).fold(1.0, f64::max);
        let height = 60 + rows.len() * 48;
        let mut svg = format!(
            "<svg xmlns='http://www.w3.org/2000/svg' width='980' height='{height}' font-family='sans-serif' font-size='12'>\
             <rect width='100%' height='100%' fill='white'/>\
             <text x='10' y='20' font-size='15' font-weight='bold'>FieldForge benchmark: {} clients, {} s per scenario (server peak {:.0} MiB)</text>\
             <text x='230' y='44'>throughput, bar = share of target (line = target)</text><text x='640' y='44'>latency ms: p50 (light), p99 (dark)</text>",
            self.clients, self.seconds, self.peak_rss_mib
        );
        let target_x = 230.0 + 360.0 / max_share;
        for (i, (label, rate, share, p50, p99)) in rows.iter().enumerate() {
            let y = 60 + i * 48;
            let w_rate = share.min(SHARE_CAP) / max_share * 360.0;
            let w50 = p50 / max_ms * 300.0;
            let w99 = p99 / max_ms * 300.0;
            svg.push_str(&format!(
                "<text x='10' y='{ty}'>{label}</text>\
                 <rect x='230' y='{y}' width='{w_rate:.1}' height='18' fill='#4a7bd0'/><text x='{tx:.1}' y='{ty}'>{rate:.0} ({pct:.0}%)</text>\
                 <line x1='{target_x:.1}' y1='{y0}' x2='{target_x:.1}' y2='{y1}' stroke='black' stroke-dasharray='3,2'/>\
                 <rect x='640' y='{y}' width='{w99:.1}' height='18' fill='#c0504d'/>\
                 <rect x='640' y='{y}' width='{w50:.1}' height='18' fill='#e8a09e'/><text x='{lx:.1}' y='{ty}'>{p50:.1} / {p99:.1}</text>",
                ty = y + 14,
                tx = 235.0 + w_rate,
                lx = 645.0 + w99,
                pct = share * 100.0,
                y0 = y - 2,
                y1 = y + 20,
            ));
        }
        svg.push_str("</svg>\n");
        svg
    }
}
