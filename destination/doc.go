// Package destination streams stored events to external HTTP receivers as
// they arrive: the "streaming audit events" of GitLab's epic, with
// delivery guarantees a security team can rely on.
//
// Each destination has a URL, an optional KQL filter, a secret, a batch
// size and a maximum delay, and custom headers. A worker tails the store
// (eventlog.DB.Tail: durable events only, in sequence order) and POSTs
// batches as NDJSON (or a JSON array) of the API's documents (events as
// ingested plus _id and _seq).
//
// Delivery is at least once and in order:
//
//   - Before a batch is sent its sequence range is persisted; after the
//     receiver accepts it, the cursor (last delivered sequence number) is.
//     A restart rebuilds the same in-flight batch — same events, same
//     idempotency key — and resumes after the cursor, so nothing is lost
//     and a receiver sees duplicates only as whole retried batches.
//   - Network errors, 429 and 5xx are retried with exponential backoff and
//     full jitter (honouring Retry-After), for as long as it takes: a
//     receiver down for hours makes the destination lag, nothing more.
//   - 413 splits the batch in two halves, sent in order (deterministically,
//     so a rebuilt batch splits the same way).
//   - Any other 4xx is retried MaxAttempts times and then parks the
//     destination: its status says why, and Resume restarts it from where
//     it stopped.
//   - Retention does not take what a destination has not delivered: the
//     server registers the destinations' lowest cursor as the store's
//     retention floor, and a destination reads events retention has
//     expired but kept for it. Only a max_bytes drop can remove them; an
//     in-flight batch that lost events that way is sent with what is left,
//     logged, shown in LastError and counted in LostBatches.
//   - Changing a destination's filter while a batch is in flight drops
//     that batch (it was cut with the old filter); the new filter applies
//     from the cursor.
//
// Every request carries
//
//	X-Eventlog-Timestamp: <unix seconds>
//	X-Eventlog-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>  (with a secret)
//	X-Eventlog-Idempotency-Key: <first seq>-<last seq>
//
// The timestamp is signed so a captured request cannot be replayed later;
// receivers should reject old timestamps. Receivers that expect a static
// token are served by custom headers.
//
// State lives in the data directory under destinations/: NAME.json holds a
// destination created through the API (its config, secret included, mode
// 0600) and NAME.state its cursor and in-flight range, each replaced
// atomically (write, fsync, rename, fsync the directory). Destinations from
// the server's config file are fixed: the API cannot change or delete them,
// and a name in both is a start-up error.
package destination
