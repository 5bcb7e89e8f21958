//! The environments `pave render` knows and their platform defaults.

use std::fmt;

/// A target environment. The order (dev, staging, prod) is the output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Environment {
    Dev,
    Staging,
    Prod,
}

impl Environment {
    pub const ALL: [Environment; 3] = [Environment::Dev, Environment::Staging, Environment::Prod];

    pub fn parse(s: &str) -> Option<Environment> {
        match s {
            "dev" | "development" => Some(Environment::Dev),
            "staging" | "stage" => Some(Environment::Staging),
            "prod" | "production" => Some(Environment::Prod),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Dev => "dev",
            Environment::Staging => "staging",
            Environment::Prod => "prod",
        }
    }

    /// The platform defaults of this environment.
    pub fn settings(self) -> EnvironmentSettings {
        match self {
            Environment::Dev => EnvironmentSettings {
                replicas: 1,
                max_replicas: 1,
                cpu_utilization: 70,
            },
            Environment::Staging => EnvironmentSettings {
                replicas: 2,
                max_replicas: 4,
                cpu_utilization: 70,
            },
            Environment::Prod => EnvironmentSettings {
                replicas: 3,
                max_replicas: 10,
                cpu_utilization: 70,
            },
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an environment gets. With `replicas` ≥ 2 a Deployment gets a HorizontalPodAutoscaler
/// (min `replicas`, max `max_replicas`, target `cpu_utilization` %), a PodDisruptionBudget
/// (`maxUnavailable: 1`) and topology spread constraints; with 1 it gets `replicas: 1` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvironmentSettings {
    pub replicas: u32,
    pub max_replicas: u32,
    pub cpu_utilization: u32,
}

impl EnvironmentSettings {
    pub fn multi_replica(&self) -> bool {
        self.replicas >= 2
    }
}
