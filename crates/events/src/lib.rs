//! Delivery and incident event intake, as a pure core: is this delivery authentic (each
//! sender's signature or shared secret, two active secrets for rotation, constant-time
//! comparison), what is its idempotency key, and what did it say, as normalised events the
//! store derives facts from. No database and no HTTP: the server hands it headers and the raw
//! body it has already bounded.
