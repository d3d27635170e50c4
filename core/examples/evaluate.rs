//! Scratch evaluation loop (development only).
#![allow(clippy::unwrap_used)]
use anomalog_core::detect::corpus::generate;
use anomalog_core::detect::eval::{best_thresholds, evaluate, summarize};
use anomalog_core::detect::series::SeriesConfig;

fn main() {
    let seed: u64 = std::env::args().nth(1).map_or(1, |s| s.parse().unwrap());
    let mut cfg = SeriesConfig::default();
    let mut show: Option<String> = None;
    for arg in std::env::args().skip(2) {
        let (k, v) = arg.split_once('=').unwrap();
        match k {
            "k" => cfg.k = v.parse().unwrap(),
            "margin" => cfg.margin = v.parse().unwrap(),
            "window" => cfg.window = v.parse().unwrap(),
            "ref" => cfg.reference_points = v.parse().unwrap(),
            "shift" => cfg.shift_points = v.parse().unwrap(),
            "ep" => cfg.episode_rows = v.parse().unwrap(),
            "gain" => cfg.seasonal_gain = v.parse().unwrap(),
            "seasonal" => cfg.seasonal = v.parse().unwrap(),
            "trend" => cfg.trend = v.parse().unwrap(),
            "transform" => cfg.transform = v.parse().unwrap(),
            "warmup" => cfg.warmup = v.parse().unwrap(),
            "show" => show = Some(v.to_owned()),
            _ => panic!("{k}"),
        }
    }
    let corpus = generate(seed);
    let mut outcomes = Vec::new();
    let mut scored = Vec::new();
    for s in &corpus {
        let mut det = anomalog_core::detect::series::SeriesDetector::new(&cfg, s.bucket_secs);
        let verdicts: Vec<_> = s.values.iter().map(|&v| det.push(v)).collect();
        let transform = det.transform();
        let flags: Vec<bool> = verdicts.iter().map(|v| v.anomaly).collect();
        let o = evaluate(&s.name, &flags, &s.windows());
        if show.as_deref() == Some(s.name.as_str()) {
            println!("windows {:?}", s.windows());
            for (i, v) in verdicts.iter().enumerate() {
                let near = s
                    .windows()
                    .iter()
                    .any(|w| i + 3 >= w.onset && i <= w.onset + 12);
                if v.anomaly || v.score > 0.3 || near {
                    println!(
                        "  {i} value {} score {:.3} view {:?}",
                        s.values[i], v.score, v.view
                    );
                }
            }
        }
        println!(
            "{:28} {:8} win {} det {} fpev {:3} fprows {:3} delays {:?}",
            s.name,
            format!("{transform:?}"),
            o.windows,
            o.detected,
            o.false_events,
            o.false_rows,
            o.delays
        );
        outcomes.push(o);
        scored.push((
            s.name.as_str(),
            verdicts.iter().map(|v| v.score).collect::<Vec<_>>(),
            s.windows(),
        ));
    }
    let sum = summarize(&outcomes);
    println!(
        "recall {:.3} precision {:.3} f1 {:.3} delay mean {:.1} median {:.1} fp_events {} fp_rows {} NAB std {:.1} lowfp {:.1} lowfn {:.1}",
        sum.recall,
        sum.precision,
        sum.f1,
        sum.mean_delay,
        sum.median_delay,
        sum.false_events,
        sum.false_rows,
        sum.nab[0],
        sum.nab[1],
        sum.nab[2]
    );
    let best = best_thresholds(&scored);
    println!("best thresholds: {:?}", best);
}
