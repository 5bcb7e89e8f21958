//! The senders pave takes deliveries from, named by the last segment of
//! `POST /api/events/<source>`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Who sent a delivery. Each sender has its own authentication, idempotency key and payload
/// shapes; see the crate documentation for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Github,
    Gitlab,
    Cdevents,
    Argocd,
    Flux,
    Pagerduty,
    Opsgenie,
    Alertmanager,
}

impl Source {
    /// Every source, in the order the documentation lists them.
    pub const ALL: [Source; 8] = [
        Source::Github,
        Source::Gitlab,
        Source::Cdevents,
        Source::Argocd,
        Source::Flux,
        Source::Pagerduty,
        Source::Opsgenie,
        Source::Alertmanager,
    ];

    /// The URL segment (`github`, `gitlab`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Github => "github",
            Source::Gitlab => "gitlab",
            Source::Cdevents => "cdevents",
            Source::Argocd => "argocd",
            Source::Flux => "flux",
            Source::Pagerduty => "pagerduty",
            Source::Opsgenie => "opsgenie",
            Source::Alertmanager => "alertmanager",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A URL segment that names no [`Source`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown event source {given:?}; expected one of: github, gitlab, cdevents, argocd, flux, pagerduty, opsgenie, alertmanager"
)]
pub struct UnknownSource {
    pub given: String,
}

impl FromStr for Source {
    type Err = UnknownSource;

    /// Exactly the lower-case segment: URLs are case-sensitive and one spelling per sender
    /// keeps webhook configurations comparable.
    fn from_str(segment: &str) -> Result<Self, Self::Err> {
        Source::ALL
            .into_iter()
            .find(|source| source.as_str() == segment)
            .ok_or_else(|| UnknownSource {
                given: segment.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_round_trips_through_its_segment() {
        for source in Source::ALL {
            assert_eq!(source.as_str().parse::<Source>(), Ok(source));
            assert_eq!(source.to_string(), source.as_str());
        }
    }

    #[test]
    fn an_unknown_segment_lists_the_valid_ones() {
        let err = "jenkins".parse::<Source>().unwrap_err();
        let message = err.to_string();
        assert!(message.contains("\"jenkins\""), "{message}");
        for source in Source::ALL {
            assert!(
                message.contains(source.as_str()),
                "{message} lacks {source}"
            );
        }
        assert!("GitHub".parse::<Source>().is_err());
    }
}
