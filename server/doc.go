// Package server is eventlog's HTTP API: handlers over an *eventlog.DB, with
// no storage logic of its own. Every response body is JSON (NDJSON for
// _export), errors included:
//
//	{"status": 400, "error": {"type": "invalid_request", "reason": "..."}}
//
// A write failed by storage is 507 disk_full (the disk of the data
// directory is full) or 503 storage_failed, and its body's "outcome" says
// whether the batch was stored: "not_stored", or "unknown" when it was
// written but its fsync failed (see eventlog.ErrOutcomeUnknown).
//
// Every request body is read whole before anything else is done with it,
// within Config.MaxBodyBytesInFlight for all bodies at once (429 with
// Retry-After when no room frees within Config.WriteQueueTimeout) and no
// slower than Config.MinBodyRate once Config.BodyRateGrace has passed (408
// request_timeout), so slow uploads hold bounded memory and no write slot.
//
// Ingest (acknowledged once db.Append returns, that is once durable under the
// DB's sync policy; at most Config.MaxConcurrentWrites at once, taken once
// the body is read, 429 with Retry-After when no write slot frees within
// Config.WriteQueueTimeout):
//
//	POST /api/events                 one event object or a JSON array of them, all or nothing → 201 {"items":[{"_id","_seq"}...]}
//	POST /api/events/_bulk           NDJSON, one event per line; valid lines stored, invalid ones reported with their line → 200
//
// A _bulk answer lists every line, or with ?items=failed only the refused
// ones (for clients that need no stored event's id or sequence number).
//
// Both take ?unknown_fields=keep|reject: fields outside the event schema
// are kept (event.DecodeOptions.KeepUnknown: stored, returned in place,
// filterable) or fail their document; without it Config.KeepUnknownFields
// decides (default reject, Kibana's behaviour). Every ingest route decodes
// through decodeAll, or a chunked _bulk through decodeReusing (the same
// decoding, with event.Decoders reused chunk after chunk), or on the
// native _bulk through addChunkParts, whose workers also check and encode
// what they decode (eventlog.BatchPart). A _bulk
// decodes 1,024 lines at a time into one
// eventlog.Batch, committed as one WAL record (bulk_chunked.go), and
// charges its working set beside its body to the store's memory budget
// (AccountIngest; 429 with Retry-After when it does not free in time).
//
// Ingest bodies may be gzip-compressed (Content-Encoding: gzip); the limits
// apply to them decompressed.
//
// Ingest from outside tools, through the same machinery (bulk.go), with
// defaults for documents without provider or action and a policy for
// unregistered pairs (IngestRoute); their documents always keep fields
// beyond the schema:
//
//	POST|PUT /es/[{index}/]_bulk     Elasticsearch's _bulk (es_bulk.go): action/document pairs, answered item by item as
//	                                 Elasticsearch does; /es/{index}/_doc[/{id}] and /_create/{id} for one document (es_doc.go);
//	                                 GET /es/ and the set-up calls shippers make answer as an Elasticsearch 8 node
//	                                 (es_routes.go); every /es answer carries X-Elastic-Product and errors take
//	                                 Elasticsearch's shape (es_errors.go)
//	POST /api/ingest/gitlab          a GitLab streamed audit event, authenticated by its verification token (gitlab.go)
//
// Filters on fields the store pseudonymises (eventlog.Options.Pseudonymizer)
// are pseudonymised before they match; a prefix, wildcard or CIDR block on
// such a field answers 400 saying why it cannot match pseudonyms.
//
// Queries (the /s/{space} prefix scopes them to a Kibana space):
//
//	GET  [/s/{space}]/api/event_log/{type}/{id}/_find   Kibana event log _find: page, per_page, sort_field, sort_order, sort, filter, start, end, allow_partial
//	POST [/s/{space}]/api/event_log/{type}/_find        the same for {"ids": [...]}
//	GET|POST [/s/{space}]/api/events/_search            filter, start, end, sort, page/per_page or size + search_after, allow_partial → {"total","data","next"}
//	POST [/s/{space}]/api/events/_aggregate             query.Request JSON with aggs → {"total","aggregations"}
//	GET|POST [/s/{space}]/api/events/_export            every match as NDJSON, streamed in order; complete, or its last line is an
//	                                                    error object, repeated in the X-Eventlog-Error trailer
//
// Damaged stored events (a data block whose checksum fails, a segment in
// quarantine/; see eventlog.CorruptionError): a query that reaches them
// answers 500 {"error":{"type":"corruption","reason":"segment F block N ..."}};
// with allow_partial=true (or "allow_partial":true in the body) it answers
// 200 from the rest with "partial":true and "warnings":[{"file","block",
// "min_seq","max_seq","start","end","reason"}]. An export that reaches them
// after its first events ends with {"status":500,"error":{"type":"corruption",...}}
// and the trailer; a tail ends with {"error":...,"resume_from":FIRST}.
//
// Every query takes its working set from the store's memory budget before
// it reads anything (eventlog.AccountQueries); one that finds no room
// within the store's QueryMemoryWait is answered 429 overloaded with
// Retry-After: 1 (eventlog.ErrMemoryFull), having read nothing.
//
// Streaming (tail.go, destinations.go):
//
//	GET [/s/{space}]/api/events/_tail   filter, from (N, beginning or now; Last-Event-ID wins) → stored then new events as
//	                                    SSE (id: SEQ, data: DOCUMENT), or NDJSON with Accept: application/x-ndjson; heartbeats;
//	                                    ends with {"error","resume_from"} (slow reader, shutdown, store closed, damaged events ahead)
//	GET    /api/destinations                  {"destinations": [destination.Status...]}
//	PUT    /api/destinations/{name}           destination.Config JSON → 200 its Status (never the secret); 409 fixed for the config file's
//	GET    /api/destinations/{name}           its Status; 404 not_found
//	DELETE /api/destinations/{name}           → {"deleted": name}
//	POST   /api/destinations/{name}/_resume   restart a parked destination → its Status
//
// Every event in a response is the document as ingested, preceded by its
// engine fields: {"_id":"000000000000002a","_seq":42,"@timestamp":...}.
//
// Registry and operations:
//
//	GET  /api/providers              {"providers": {"alerting": ["execute", ...]}}
//	PUT  /api/providers/{provider}   {"actions": [...]} registers them (idempotent)
//	GET  /healthz                    liveness: ok, degraded (quarantined segments — at open or found damaged while serving, until
//	                                 repaired — seal error, disk full), 503 failed (poisoned WAL: restart) or 503 shutting_down
//	GET  /readyz                     readiness to take writes: ready, or 503 not_ready naming why (disk_full, read_only, wal_poisoned, shutting_down)
//	GET  /metrics                    Prometheus text format, from the Metrics' own registry
//	GET  /api/_stats                 db.Stats() with the list of segments
//	GET  /api/_privacy               privacy.Notice: fields collected, which are pseudonymised, who may read, retention (incl. per space)
//
// Maintenance (admin.go). _roll, _compact and _retention take
// ?timeout=DURATION (default Config.RequestTimeout) and answer 503 saying
// what was done when it passes, and 403 read_only over a read-only DB:
//
//	POST /api/_roll                  seal the heads now → {"head_events","segments_before","segments_after","new_segments"}
//	POST /api/_compact               run DB.Compact now → eventlog.CompactResult
//	POST /api/_retention             run DB.ApplyRetention now; ?dry_run=true: DB.RetentionPlan, changing nothing → {"dry_run","dropped","bytes_reclaimed","held","held_bytes"} (held: expired segments incident holds kept)
//	POST /api/_compaction/_pause     stop the background compactor from starting merges → {"compaction_paused":true}
//	POST /api/_compaction/_resume    let it run again → {"compaction_paused":false}
//
// Delete by query (delete.go), off unless Config.EnableDelete (eventlog
// serve --enable-delete): until then it answers 403 disabled, saying how to
// turn it on, without reading the body. It takes ?timeout= as above (503:
// nothing was deleted) and answers 403 read_only over a read-only DB:
//
//	POST /api/events/_delete_by_query   {"filter":KQL,"start":T,"end":T} (filter required; strict JSON) → {"deleted","seq","filter_sha256","blocked"};
//	                                    the events stored before it that match vanish from every read at once and are
//	                                    purged from disk at the next maintenance run (_compact); 400 names a bad body;
//	                                    "blocked" of them an incident hold pins: they stay until it is released
//
// Incident holds (holds.go): admin keys create and release them, admin and
// auditor keys list them; the engine records each change as an event and the
// server audits the calls.
//
//	POST   /api/_holds          {"name","filter","start","end","reason"} (strict JSON) → 201 eventlog.Hold; 400 names a bad body, 409 a name in use
//	GET    /api/_holds          → {"holds":[eventlog.HoldInfo (with "events")],"cost":eventlog.HoldStats}
//	DELETE /api/_holds/{name}   → the released eventlog.Hold; 404 when there is none of that name
//
// Backup (backup.go), off unless Config.BackupDir (eventlog serve
// --backup-dir DIR): until then it answers 403 disabled, saying how to
// turn it on. It writes only under that directory, into the plain
// subdirectory the body names (400 names a bad name, and nothing is
// written), and takes ?timeout= as above. Like delete by query it is an
// operator's route, for admin keys.
//
//	POST /api/_backup   {"name":NAME} → eventlog.BackupResult; 409 while another backup writes to NAME
//
// Access control (access.go, routes.go, scope.go, keys.go, audit.go), with
// Config.Keys: every route of the route table has a rule — the role it
// needs (package auth), whether it answers for the whole store (refused to
// keys scoped to spaces: _stats, /metrics), the audit action it records.
// Once the store holds a key, every route but /healthz needs one (/metrics
// too, unless Config.MetricsPublic): 401 unauthenticated with
// WWW-Authenticate without a valid one, 403 forbidden naming the role
// needed, 429 rate_limited with Retry-After over Config.RateLimits. A
// scoped key reads only events in its spaces on every read route (counts
// included: query.Request.Spaces; a tail's filter), sees no reference to
// nor space id of other spaces, and writes only events all of whose spaces are in scope
// (403 per event). Only admin and auditor keys see the store's own events
// (provider "eventlog"), which record key changes, refused credentials
// (counted per key id and address, flushed every
// Config.AuditFlushInterval) and admin actions. Open streams end within
// Config.KeyCheckInterval of their key's revocation or expiry.
//
//	POST   /api/_security/api_key        {"name","role","spaces","expiration"} → {"id","name","role","spaces","expiration","api_key","encoded"} (the secret, once)
//	GET    /api/_security/api_key        {"api_keys":[...]}, never a secret
//	DELETE /api/_security/api_key/{id}   revoke → {"invalidated_api_keys":[id]}
//	GET    /api/_security/_authenticate  what the caller's key grants: {"authenticated","id","name","role","spaces","expiration"}; {"authenticated":false} without keys
//
// The timeline page (ui.go), with Config.UI: GET / and GET /assets/{file}
// are public, under a Content-Security-Policy that allows this origin
// only; content-hashed assets are cached as immutable, index.html is
// revalidated. A GET or HEAD that matches no route, accepts text/html and
// is outside /api, /es, /internal, /s/{space}/api and /metrics gets the
// page (its URLs are views); any other unmatched request keeps its JSON
// 404 or 405.
//
// A read-only query node (Config.Node, node.go) serves a store that
// follows a writer's bucket (package tiering): every route that writes
// answers 405 read_only naming the writer (Elasticsearch routes:
// cluster_block_exception); /healthz adds object_store_node (the manifest
// served and its age) and is degraded while polls fail; /readyz is ready
// while the node serves reads; audit events go to the log. A read that
// met a segment gone from the bucket (tiering.ErrSegmentGone: the node
// lagged past the writer's delete grace) is answered 503 unavailable with
// Retry-After: 1 while the node reads the latest manifest.
//
// A Server does not own the DB: after Run returns, the caller closes it.
package server
