//! Placeholder: filled by the hostile-client work on this part of the server.
