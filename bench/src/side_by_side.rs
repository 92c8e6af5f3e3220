//! FieldForge's computed answers and PostGraphile 5's, alternating in one
//! run: for each read, `rounds` pairs of runs, the side that goes first
//! swapping every round, so drift of the machine (another process, thermal
//! state, PostgreSQL's caches) falls on both sides alike. The figure is the
//! median of the per-round ratios (FieldForge / PostGraphile 5).

use serde_json::{Value, json};

use crate::load::{self, Env, ScenarioResult};
use crate::reference::{self, ReferenceServer};

/// One read's rounds: (FieldForge computed, PostGraphile 5) per round.
pub struct Read {
    pub name: &'static str,
    pub rounds: Vec<(ScenarioResult, ScenarioResult)>,
}

impl Read {
    /// Per-round throughput ratios, FieldForge / PostGraphile 5.
    pub fn ratios(&self) -> Vec<f64> {
        self.rounds.iter().map(|(ours, peer)| ours.rate / peer.rate.max(f64::MIN_POSITIVE)).collect()
    }

    pub fn median_ratio(&self) -> f64 {
        median(self.ratios())
    }

    /// Median server CPU per request: (FieldForge, PostGraphile 5), in ms.
    pub fn median_cpu_ms(&self) -> (f64, f64) {
        let cpu = |pick: fn(&(ScenarioResult, ScenarioResult)) -> &ScenarioResult| {
            median(self.rounds.iter().map(|r| pick(r).server_cpu_ms_per_op.unwrap_or(0.0)).collect())
        };
        (cpu(|r| &r.0), cpu(|r| &r.1))
    }

    pub fn json(&self) -> Value {
        let (ours_cpu, peer_cpu) = self.median_cpu_ms();
        json!({
            "read": self.name,
            "medianRatio": self.median_ratio(),
            "medianServerCpuMsPerRequest": { "fieldforge": ours_cpu, "postgraphile": peer_cpu },
            "rounds": self.rounds.iter().map(|(ours, peer)| json!({
                "fieldforge": ours.rate, "postgraphile": peer.rate, "ratio": ours.rate / peer.rate.max(f64::MIN_POSITIVE),
                "fieldforgeCpuMs": ours.server_cpu_ms_per_op, "postgraphileCpuMs": peer.server_cpu_ms_per_op,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The median (the mean of the middle two for an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 { values[middle] } else { (values[middle - 1] + values[middle]) / 2.0 }
}

/// Runs `rounds` alternating pairs for the board, the job detail and the
/// technician's week. `fresh` is FieldForge with `Cache-Control: no-cache`.
pub async fn run(fresh: &Env, peer: &ReferenceServer, rounds: usize) -> Vec<Read> {
    let jobs = load::invoiced_jobs(fresh).await;
    let technicians = load::technician_ids(fresh).await;
    let mut reads = vec![
        Read { name: "board", rounds: Vec::new() },
        Read { name: "job detail", rounds: Vec::new() },
        Read { name: "technician's week", rounds: Vec::new() },
    ];
    for round in 0..rounds {
        let peer_first = round % 2 == 1;
        for (index, read) in reads.iter_mut().enumerate() {
            let ours = || async {
                match index {
                    0 => load::board(fresh).await,
                    1 => load::job_detail(fresh).await,
                    _ => load::technician_schedule(fresh).await,
                }
            };
            let theirs = || async {
                match index {
                    0 => reference::board(peer).await,
                    1 => reference::job_detail(peer, jobs.clone()).await,
                    _ => reference::technician_schedule(peer, technicians.clone()).await,
                }
            };
            let pair = if peer_first {
                let peer_result = theirs().await;
                (ours().await, peer_result)
            } else {
                let ours_result = ours().await;
                (ours_result, theirs().await)
            };
            read.rounds.push(pair);
        }
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_is_the_middle_value() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }
}
