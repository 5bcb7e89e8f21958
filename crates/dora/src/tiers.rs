//! Performance levels (elite, high, medium, low) from a versioned tier table.
//!
//! DORA's levels are clusters found in each year's survey, not thresholds: each cluster is
//! described by typical answers ("between once per day and once per week", "5%"). To place a
//! measured figure we read each table as bounds, best level first, and take **the first
//! (best) level whose bound the figure meets**; the low row is the catch-all. Where a year's
//! clusters overlap or are not monotonic, a level can be unreachable for a metric, and the
//! table says so in its notes rather than inventing a bound.
//!
//! | Table | Source | Default |
//! |---|---|---|
//! | `2023` | Accelerate State of DevOps Report 2023 (dora.dev, DORA/Google Cloud) | yes |
//! | `2024` | Accelerate State of DevOps Report 2024 (dora.dev, DORA/Google Cloud) | |
//!
//! **Verification.** Values marked *[M]* come from memory or a secondary source and must be
//! checked against the report PDF before we ship them (research note
//! `shared/research/dora.md` §1). In the 2023 table only the elite row was checked against
//! the 2023 infographic ("On demand / less than 1 day / 5% / less than 1 hour") *[V]*; its
//! high, medium and low rows are *[M]*. The whole 2024 table is *[M]* (a third-party
//! extraction matches its deployment-frequency and lead-time columns, the shares of
//! respondents, and the elite and high change-failure values).
//!
//! **Reading of each metric** (both tables):
//!
//! * *Deployment frequency* (the surveys ask a frequency, we measure days): elite when the
//!   median number of days with a successful deployment per ISO week is at least 5 ("on
//!   demand": most working days, Apache DevLake's 2023 reading); high when it is at least 1
//!   (at least weekly in a typical week); medium when successful deployments average at least
//!   one per month (30.436875 days); low otherwise. No level without counted deployments.
//! * *Change lead time* (median): below the row's bound (1 day, 7 days, 30 days).
//! * *Change failure rate*: at most the row's cluster value (DevLake reads 2023 the same way).
//! * *Failed deployment recovery time* (median): below the row's bound.
//! * *Rework rate* has no tier in either table (DORA introduced it in 2024 without levels).

use serde::{Deserialize, Serialize};

use crate::facts::Millis;

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

/// Which year's tier table levels are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum TierVersion {
    /// Accelerate State of DevOps 2023 (the default).
    #[default]
    #[serde(rename = "2023")]
    Dora2023,
    /// Accelerate State of DevOps 2024.
    #[serde(rename = "2024")]
    Dora2024,
}

impl TierVersion {
    /// Every table, oldest first (for docs and `--tiers` help).
    pub const ALL: [TierVersion; 2] = [TierVersion::Dora2023, TierVersion::Dora2024];

    /// `"2023"` or `"2024"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TierVersion::Dora2023 => "2023",
            TierVersion::Dora2024 => "2024",
        }
    }
}

/// A performance level, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Elite,
    High,
    Medium,
    Low,
}

impl Level {
    /// `"elite"`, `"high"`, `"medium"` or `"low"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Elite => "elite",
            Level::High => "high",
            Level::Medium => "medium",
            Level::Low => "low",
        }
    }
}

/// A cluster's description for one metric and the bound we read from it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bound<T> {
    /// The report's wording for this cluster.
    pub label: &'static str,
    /// The bound a figure must meet for this level (`None`: any figure, the catch-all).
    pub max: Option<T>,
    /// Checked against a primary source (`false`: *[M]*, to be verified).
    pub verified: bool,
}

/// One level's row of a tier table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierRow {
    pub level: Level,
    /// Share of survey respondents in this cluster, in percent.
    pub share_percent: f64,
    /// The report's deployment frequency wording (the measured reading is
    /// [`TierTable::deployment_frequency`]).
    pub deployment_frequency: &'static str,
    /// Median change lead time, milliseconds, exclusive bound.
    pub lead_time: Bound<Millis>,
    /// Change failure rate as a fraction (0.05 = 5%), inclusive bound.
    pub change_failure_rate: Bound<f64>,
    /// Median failed deployment recovery time, milliseconds, exclusive bound.
    pub recovery_time: Bound<Millis>,
}

/// How deployment frequency is placed (same in both tables; see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrequencyRule {
    /// Elite: median deploy-days per ISO week at least this.
    pub elite_min_deploy_days_per_week: f64,
    /// High: median deploy-days per ISO week at least this.
    pub high_min_deploy_days_per_week: f64,
    /// Medium: successful deployments per (average) month at least this.
    pub medium_min_deployments_per_month: f64,
}

/// A year's tier table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierTable {
    pub version: TierVersion,
    /// Where the clusters come from.
    pub source: &'static str,
    /// Best level first.
    pub rows: [TierRow; 4],
    pub deployment_frequency: FrequencyRule,
    /// Caveats of this year's reading (unreachable levels, overlaps).
    pub notes: &'static [&'static str],
}

/// The average month, for "at least monthly": 365.2425 / 12 days.
pub const AVERAGE_MONTH_DAYS: f64 = 30.436875;

const FREQUENCY_RULE: FrequencyRule = FrequencyRule {
    elite_min_deploy_days_per_week: 5.0,
    high_min_deploy_days_per_week: 1.0,
    medium_min_deployments_per_month: 1.0,
};

const fn bound<T: Copy>(label: &'static str, max: Option<T>, verified: bool) -> Bound<T> {
    Bound {
        label,
        max,
        verified,
    }
}

/// Accelerate State of DevOps 2023. Elite row *[V]* (2023 infographic); other rows *[M]*.
static DORA_2023: TierTable = TierTable {
    version: TierVersion::Dora2023,
    source: "Accelerate State of DevOps Report 2023 (dora.dev); elite row checked against the \
             2023 infographic, other rows [M] (to verify against the report PDF)",
    rows: [
        TierRow {
            level: Level::Elite,
            share_percent: 18.0, // [M]
            deployment_frequency: "On demand",
            lead_time: bound("less than one day", Some(DAY), true),
            change_failure_rate: bound("5%", Some(0.05), true),
            recovery_time: bound("less than one hour", Some(HOUR), true),
        },
        TierRow {
            level: Level::High,
            share_percent: 31.0,                                            // [M]
            deployment_frequency: "Between once per day and once per week", // [M]
            lead_time: bound("between one day and one week", Some(7 * DAY), false),
            change_failure_rate: bound("10%", Some(0.10), false),
            recovery_time: bound("less than one day", Some(DAY), false),
        },
        TierRow {
            level: Level::Medium,
            share_percent: 33.0, // [M]
            deployment_frequency: "Between once per week and once per month", // [M]
            lead_time: bound("between one week and one month", Some(30 * DAY), false),
            change_failure_rate: bound("15%", Some(0.15), false),
            recovery_time: bound("between one day and one week", Some(7 * DAY), false),
        },
        TierRow {
            level: Level::Low,
            share_percent: 17.0, // [M]
            deployment_frequency: "Between once per week and once per month", // [M]
            lead_time: bound("between one week and one month", None, false),
            change_failure_rate: bound("64%", None, false),
            recovery_time: bound("between one month and six months", None, false),
        },
    ],
    deployment_frequency: FREQUENCY_RULE,
    notes: &[
        "Medium and low share the deployment frequency and lead time wording; the better \
         level wins, so low is reached only past medium's bounds.",
    ],
};

/// Accelerate State of DevOps 2024. Every value *[M]*.
static DORA_2024: TierTable = TierTable {
    version: TierVersion::Dora2024,
    source: "Accelerate State of DevOps Report 2024 (dora.dev); all values [M] (a third-party \
             extraction matches deployment frequency, lead time, shares and elite/high change \
             failure rates; to verify against the report PDF)",
    rows: [
        TierRow {
            level: Level::Elite,
            share_percent: 19.0,
            deployment_frequency: "On demand (multiple deploys per day)",
            lead_time: bound("less than one day", Some(DAY), false),
            change_failure_rate: bound("5%", Some(0.05), false),
            recovery_time: bound("less than one hour", Some(HOUR), false),
        },
        TierRow {
            level: Level::High,
            share_percent: 22.0,
            deployment_frequency: "Between once per day and once per week",
            lead_time: bound("between one day and one week", Some(7 * DAY), false),
            change_failure_rate: bound("20%", Some(0.20), false),
            recovery_time: bound("less than one day", Some(DAY), false),
        },
        TierRow {
            level: Level::Medium,
            share_percent: 35.0,
            deployment_frequency: "Between once per week and once per month",
            lead_time: bound("between one week and one month", Some(30 * DAY), false),
            change_failure_rate: bound("10%", Some(0.10), false),
            recovery_time: bound("less than one day", Some(DAY), false),
        },
        TierRow {
            level: Level::Low,
            share_percent: 25.0,
            deployment_frequency: "Between once per month and once every six months",
            lead_time: bound("between one month and six months", None, false),
            change_failure_rate: bound("40%", None, false),
            recovery_time: bound("between one week and one month", None, false),
        },
    ],
    deployment_frequency: FREQUENCY_RULE,
    notes: &[
        "Change failure rate is not monotonic (medium 10% < high 20%): a rate of at most 20% \
         reads as high (or elite), so medium is unreachable for this metric.",
        "Recovery time: medium's 'less than one day' equals high's, so medium is unreachable \
         for this metric; one day or more reads as low.",
    ],
};

/// The tier table of `version` (for the docs page and `pave dora tiers`).
pub fn tiers(version: TierVersion) -> &'static TierTable {
    match version {
        TierVersion::Dora2023 => &DORA_2023,
        TierVersion::Dora2024 => &DORA_2024,
    }
}

impl TierTable {
    /// Level of a median change lead time (ms).
    pub fn lead_time_level(&self, median_ms: f64) -> Level {
        self.first_level(|row| row.lead_time.max.is_none_or(|max| median_ms < max as f64))
    }

    /// Level of a change failure rate (fraction).
    pub fn change_failure_level(&self, rate: f64) -> Level {
        self.first_level(|row| row.change_failure_rate.max.is_none_or(|max| rate <= max))
    }

    /// Level of a median failed deployment recovery time (ms).
    pub fn recovery_level(&self, median_ms: f64) -> Level {
        self.first_level(|row| {
            row.recovery_time
                .max
                .is_none_or(|max| median_ms < max as f64)
        })
    }

    /// Level of deployment frequency from the median deploy-days per week and successful
    /// deployments per day.
    pub fn deployment_frequency_level(
        &self,
        median_deploy_days_per_week: f64,
        per_day: f64,
    ) -> Level {
        let rule = &self.deployment_frequency;
        if median_deploy_days_per_week >= rule.elite_min_deploy_days_per_week {
            Level::Elite
        } else if median_deploy_days_per_week >= rule.high_min_deploy_days_per_week {
            Level::High
        } else if per_day * AVERAGE_MONTH_DAYS >= rule.medium_min_deployments_per_month {
            Level::Medium
        } else {
            Level::Low
        }
    }

    fn first_level(&self, meets: impl Fn(&TierRow) -> bool) -> Level {
        self.rows
            .iter()
            .find(|row| meets(row))
            .map_or(Level::Low, |row| row.level)
    }

    /// The table as Markdown, for the docs page (values to be verified are marked [M]).
    pub fn to_markdown(&self) -> String {
        use std::fmt::Write as _;
        let mark = |verified: bool| if verified { "" } else { " [M]" };
        let mut out = format!("**DORA {}** — {}\n\n", self.version.as_str(), self.source);
        out.push_str(
            "| Level | Share | Deployment frequency | Lead time | Change failure rate | Recovery time |\n\
             |---|---|---|---|---|---|\n",
        );
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {}% | {} | {}{} | {}{} | {}{} |",
                row.level.as_str(),
                row.share_percent,
                row.deployment_frequency,
                row.lead_time.label,
                mark(row.lead_time.verified),
                row.change_failure_rate.label,
                mark(row.change_failure_rate.verified),
                row.recovery_time.label,
                mark(row.recovery_time.verified),
            );
        }
        let rule = &self.deployment_frequency;
        let _ = write!(
            out,
            "\nDeployment frequency is read from measurements: elite when the median number of \
             days with a successful deployment per ISO week is at least {}, high when it is at \
             least {}, medium with at least {} successful deployment per average month, low \
             otherwise.\n",
            rule.elite_min_deploy_days_per_week,
            rule.high_min_deploy_days_per_week,
            rule.medium_min_deployments_per_month
        );
        for note in self.notes {
            let _ = writeln!(out, "\n* {note}");
        }
        out
    }
}
