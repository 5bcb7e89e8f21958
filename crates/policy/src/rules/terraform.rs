//! (rules to come)

use crate::rule::Rule;

pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    Vec::new()
}
