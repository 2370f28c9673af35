//! The rates the WAL rules judge: pg_wal's growth over the window and a
//! volume's fill rate with the time left, both Theil–Sen slopes over the
//! samples in the growth window. Pure arithmetic on samples.

use chrono::{DateTime, Utc};

use super::{WalFacts, WalPolicy, WalSample};

/// pg_wal's growth over the window, and the samples it was judged on.
pub(super) struct Growth {
    /// Samples in the window, the current one included.
    pub(super) samples: u32,
    /// pg_wal's Theil–Sen slope, bytes per second.
    pub(super) wal_rate: Option<f64>,
    /// Net growth when pg_wal never shrank over the window.
    pub(super) monotone_growth: Option<u64>,
    /// Every sample in the window, oldest first, the current one last.
    pub(super) points: Vec<WalSample>,
}

/// The most samples a Theil–Sen slope is taken over (about 20,000 pairs).
const THEIL_SEN_MAX: usize = 200;

/// A measurement in time: (when, bytes).
pub(super) type Point = (DateTime<Utc>, u64);

/// Theil–Sen slope over `points`: the median of the slopes of every pair,
/// per second. Robust to a single outlier; `None` for fewer than two
/// distinct times.
fn theil_sen(points: &[Point]) -> Option<f64> {
    // Pairs grow with the square of the samples: beyond THEIL_SEN_MAX
    // points (a crafted or very dense history), an evenly spaced subset
    // with both ends is used, so the work stays bounded.
    let sampled: Vec<Point>;
    let points = if points.len() > THEIL_SEN_MAX {
        let last = points.len() - 1;
        sampled = (0..THEIL_SEN_MAX)
            .map(|i| points[i * last / (THEIL_SEN_MAX - 1)])
            .collect();
        &sampled[..]
    } else {
        points
    };
    let mut slopes = Vec::with_capacity(points.len() * points.len().saturating_sub(1) / 2);
    for (i, (ta, va)) in points.iter().enumerate() {
        for (tb, vb) in &points[i + 1..] {
            let dt = (*tb - *ta).num_milliseconds() as f64 / 1000.0;
            if dt > 0.0 {
                slopes.push((*vb as f64 - *va as f64) / dt);
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let n = slopes.len();
    Some(if n % 2 == 1 {
        slopes[n / 2]
    } else {
        (slopes[n / 2 - 1] + slopes[n / 2]) / 2.0
    })
}

fn span_secs(points: &[Point]) -> f64 {
    match (points.first(), points.last()) {
        (Some(a), Some(b)) => (b.0 - a.0).num_milliseconds() as f64 / 1000.0,
        _ => 0.0,
    }
}

pub(super) fn growth(facts: &WalFacts, policy: &WalPolicy, now: DateTime<Utc>) -> Growth {
    let start = crate::num::minus(now, policy.growth_window);
    let mut points: Vec<WalSample> = facts
        .history
        .iter()
        .filter(|s| s.at >= start && s.at < now)
        .cloned()
        .collect();
    points.sort_by_key(|s| s.at);
    points.push(WalSample {
        at: now,
        wal_bytes: facts.wal_bytes,
        volume_used_bytes: facts.volume.used_bytes(),
        volumes: facts
            .volumes
            .iter()
            .map(|w| (w.key.clone(), w.volume.used_bytes()))
            .collect(),
    });
    let samples = points.len() as u32;
    let first = points[0].clone();
    let wal: Vec<Point> = points.iter().map(|p| (p.at, p.wal_bytes)).collect();
    let span = span_secs(&wal);
    if samples < policy.growth_min_samples
        || span <= 0.0
        || span < policy.rate_min_span.as_secs_f64()
    {
        return Growth {
            samples,
            wal_rate: None,
            monotone_growth: None,
            points,
        };
    }
    let monotone = points.windows(2).all(|w| w[1].wal_bytes >= w[0].wal_bytes);
    Growth {
        samples,
        wal_rate: theil_sen(&wal),
        monotone_growth: monotone.then(|| facts.wal_bytes - first.wal_bytes),
        points,
    }
}

/// Where the fill stands now, for the time left: the Theil–Sen line's value
/// at the last sample (its intercept the median of the residuals), but never
/// more than one `quantum` (the WAL segment size) below the current
/// measurement `used`.
///
/// pg_wal grows in whole segments, so used space is a staircase (16MB steps
/// are 6 % of a 256MB volume): read off the last step, the time left swung a
/// step's time early or late from one check to the next, while the line runs
/// through the staircase's middle, which no step lies a whole segment
/// above. What lies further above the line is real — a large file written
/// at once — and counts, at every check after it too, however the line
/// catches up.
fn level_now(run: &[Point], rate: f64, used: u64, quantum: u64) -> f64 {
    let Some(((t0, _), (tn, _))) = run.first().zip(run.last()) else {
        return used as f64;
    };
    let x = |t: DateTime<Utc>| (t - *t0).num_milliseconds() as f64 / 1000.0;
    let mut residuals: Vec<f64> = run.iter().map(|(t, v)| *v as f64 - rate * x(*t)).collect();
    let mid = residuals.len() / 2;
    let (_, median, _) = residuals.select_nth_unstable_by(mid, f64::total_cmp);
    let fitted = *median + rate * x(*tn);
    fitted.max(used as f64 - quantum as f64)
}

/// The volume's fill rate and the seconds until `error_used`, judged over
/// the recent run of samples in which used space never fell: a drop (files
/// deleted, segments recycled) starts a new run, so a volume that just
/// emptied shows no growth. The slope is Theil–Sen's. The run must hold
/// `growth_min_samples` samples spanning `rate_min_span` — or, for a fill so
/// fast the threshold comes sooner than that, at least the predicted time
/// left (and `rate_min_span_fast`).
pub(super) fn fill_rate(
    points: &[Point],
    policy: &WalPolicy,
    used: u64,
    error_used: f64,
    quantum: u64,
) -> (Option<f64>, Option<f64>) {
    let Some(mut from) = points.len().checked_sub(1) else {
        return (None, None);
    };
    while from > 0 && points[from - 1].1 <= points[from].1 {
        from -= 1;
    }
    let run = &points[from..];
    let span = span_secs(run);
    if (run.len() as u32) < policy.growth_min_samples || span <= 0.0 {
        return (None, None);
    }
    let Some(rate) = theil_sen(run) else {
        return (None, None);
    };
    let left = if rate > 0.0 {
        Some(((error_used - level_now(run, rate, used, quantum)) / rate).max(0.0))
    } else {
        None
    };
    let needed = match left {
        Some(left) => left
            .min(policy.rate_min_span.as_secs_f64())
            .max(policy.rate_min_span_fast.as_secs_f64()),
        None => policy.rate_min_span.as_secs_f64(),
    };
    if span < needed {
        return (None, None);
    }
    (Some(rate), left)
}
