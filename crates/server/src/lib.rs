//! HTTP server: Backstage-compatible catalog API, portal, health and metrics
