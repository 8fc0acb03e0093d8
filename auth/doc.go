// Package auth decides who may do what on an eventlog server: API keys
// (hashed at rest), roles, space scopes and rate limits. It makes decisions
// only; package server asks it on every request.
//
// A key has an id, a name, a role, optional space scopes and an optional
// expiry. Its secret is 256 random bits, shown once when the key is made;
// the store keeps only the secret's SHA-256 (a fast hash is right for a
// secret that is random, not chosen by a person) and compares hashes in
// constant time. A client sends the id and the secret as Elasticsearch
// clients do, in one of three forms of the Authorization header (Parse):
//
//	Authorization: ApiKey base64(id ":" secret)
//	Authorization: Bearer base64(id ":" secret)
//	Authorization: Basic  base64(id ":" secret)   (user name = id, password = secret)
//
// Keys live in the data directory's keys.json (mode 0600, replaced
// atomically; FORMAT.md describes it field by field). A Store holds them in
// memory: a revocation takes effect on the next request, and "last used" is
// kept in memory and written by FlushLastUsed, never once per request.
//
// Roles, each including the one before: Reader (find, search, aggregate,
// export, tail, stats, registry, health), Writer (also ingest and registering
// providers), Admin (also maintenance, destinations, keys, delete, backup).
// Auditor reads everything, the store's own audit events included, and
// writes nothing. A key scoped to spaces reads only events in one of them
// and writes only events all of whose spaces are among them; an event's
// spaces are event.Event.Spaces.
package auth
