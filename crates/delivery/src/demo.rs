//! Demo history (wip).
