//! What the series detector says about one point, and the evidence behind it.

use serde::{Deserialize, Serialize};

/// What the detector says about one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointVerdict {
    /// In [0, 1]; 0.5 is the verdict threshold.
    pub score: f64,
    /// Past the warm-up and `score >= 0.5`.
    pub anomaly: bool,
    /// The view with the highest score, when any judged.
    pub view: Option<ViewKind>,
    /// The evidence in the series' own unit, when the point view judged.
    pub band: Option<Band>,
    /// Some view flagged the point before returns, fading and the cooldown
    /// were applied: it is kept out of the histories. A reported episode
    /// lasts while its points deviate.
    pub deviating: bool,
}

/// What one point was judged against, in the series' own unit (the
/// transform undone): the point view's expected value, the value a single
/// point had to reach (above or below, in the direction of the deciding
/// view's deviation) and one robust standard deviation around the
/// expectation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub expected: f64,
    pub threshold: f64,
    pub spread: f64,
    /// The deciding view deviated upwards (the point view's, when no view
    /// scored above 0).
    pub rising: bool,
}

impl PointVerdict {
    pub(super) fn quiet() -> PointVerdict {
        PointVerdict {
            score: 0.0,
            anomaly: false,
            view: None,
            band: None,
            deviating: false,
        }
    }
}

/// Which view judged a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewKind {
    Point,
    Shift,
    Drift,
    /// The roughness of the last points against its usual level: a sensor
    /// stuck on one value, a process turning erratic.
    Variance,
    Seasonal,
    Weekly,
    /// The mean of a long stretch against a longer reference before it,
    /// with no trend: slow ramps and leaks.
    Level,
}
