package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/agnivade/levenshtein"

	"gopkg.in/yaml.v3"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/internal/tlsfiles"
	"github.com/eventlogdb/eventlog/privacy"
	"github.com/eventlogdb/eventlog/server"
)

// serveConfig is everything eventlog serve can be told.
type serveConfig struct {
	data, addr        string
	sync              eventlog.SyncPolicy
	syncInterval      time.Duration
	allowUnregistered bool
	segmentMaxBytes   int64
	segmentMaxAge     time.Duration
	segmentIdle       time.Duration // 0: off
	memoryLimit       int64
	integrity         bool
	integrityInterval time.Duration
	maintenance       maintenanceConfig
	server            server.Config
	destinations      fixedDestinations // the file's destinations: list (destinations.go)
	logLevel          slog.Level
	logJSON           bool
	// pprofAddr is where net/http/pprof is served, apart from the API
	// ("": nowhere, the default).
	pprofAddr string
	// insecureNoAuth allows serving a directory without keys on a
	// non-loopback address.
	insecureNoAuth bool
	// tls names the certificate files; Cert empty: plain HTTP.
	tls tlsfiles.Files
	// tlsReloadInterval is how often the TLS files are checked for change.
	tlsReloadInterval time.Duration
	// pseudonym is where the pseudonym key comes from; pseudonymizer is
	// what it builds (nil: off).
	pseudonym     pseudonymConfig
	pseudonymizer *privacy.Pseudonymizer
	// secrets is where the key that seals destination secrets comes
	// from; secretsKey is the key (nil: none given).
	secrets    secretsConfig
	secretsKey []byte
	// hup receives SIGHUP, which reloads the TLS files; nil in tests that
	// do not signal.
	hup chan os.Signal

	// objectStore is where sealed segments are copied (objectstore.go).
	objectStore objectStoreConfig
	// node makes the server a read-only query node (node.go).
	node nodeConfig
}

// setting is one knob of eventlog serve. It is the flag --name, the
// environment variable env(name) and the key name of the config file; def
// is its default, in the form a user would write it.
type setting struct {
	name, arg, def, help string
	set                  func(c *serveConfig, v string) error
}

// settings lists every setting of eventlog serve, in the order --help
// shows them. --config, which says where the file is, is not among them.
func settings() []setting {
	return append([]setting{
		{"data", "DIR", "./data", "data directory", text(func(c *serveConfig) *string { return &c.data })},
		{"addr", "HOST:PORT", "127.0.0.1:9700", "listen address; with port 0 the system picks a free port, and the address printed says which", hostPort},
		{"sync", "POLICY", "always", "when a write is durable: always (fsynced before the answer), interval or none", syncPolicy},
		{"sync-interval", "DURATION", "100ms", "fsync period under --sync interval", duration(func(c *serveConfig) *time.Duration { return &c.syncInterval })},
		{"integrity", "BOOL", "true", "keep a Merkle tree over the durable events with Ed25519-signed heads (integrity/ in the data directory), served to admin and auditor keys under /api/_integrity and /api/events/{id}/_proof; checked by verify --chain", boolean(func(c *serveConfig) *bool { return &c.integrity })},
		{"integrity-interval", "DURATION", "1m", "how often a tree head is signed when the tree has grown (also on demand: POST /api/_integrity/head, or integrity head --sign on a stopped store)", duration(func(c *serveConfig) *time.Duration { return &c.integrityInterval })},
		{"allow-unregistered", "BOOL", "false", "accept events whose provider/action pair is not registered", boolean(func(c *serveConfig) *bool { return &c.allowUnregistered })},
		{"segment-max-bytes", "SIZE", "64MiB", "seal the in-memory head into segments once it holds this much", size(func(c *serveConfig) *int64 { return &c.segmentMaxBytes })},
		{"segment-max-age", "DURATION", "1h", "seal the in-memory head once its oldest event is this old", duration(func(c *serveConfig) *time.Duration { return &c.segmentMaxAge })},
		{"segment-idle", "DURATION", "off", "seal the in-memory head once nothing has arrived for this long, if it holds a sixteenth of what --segment-max-bytes (or its share of --memory-limit) would seal: a burst's events leave memory soon after it ends, while a trickle still makes one segment per --segment-max-age; off: never", segmentIdle},
		{"memory-limit", "SIZE", "256MiB", "memory the store may hold: Go heap and other anonymous memory, not mapped segment files; heads roll smaller, and past it ingest and queries get 429 with Retry-After until memory frees, and compaction waits; also the Go runtime's soft limit unless GOMEMLIMIT is set; off: no limit", optionalSize(func(c *serveConfig) *int64 { return &c.memoryLimit })},
		{"retention-max-age", "DURATION", "off", "expire events older than this by @timestamp (240h, 30d, 2w): queries stop returning them at once, and their segments are dropped", age(func(c *serveConfig) *time.Duration { return &c.maintenance.retentionMaxAge })},
		{"retention-space-max-age", "SPACE=AGE,...", "off", "give the events of a Kibana space their own max age in place of retention-max-age (team-a=30d,audit=off: off keeps for ever); an event in several spaces is kept while any of them keeps it", spaceMaxAge},
		{"retention-max-bytes", "SIZE", "off", "drop the oldest segments while segments and WAL together are larger than this (10GiB, 500MB)", optionalSize(func(c *serveConfig) *int64 { return &c.maintenance.retentionMaxBytes })},
		{"dedup-window", "DURATION", "24h", "how long, at least, a client id (_id) is recognised so a retry is not stored twice (1d, 48h): an id whose event is still stored is recognised for as long as it is; the ids of deleted or expired events are kept this long after the erasure", dedupWindow},
		{"max-future-skew", "DURATION", "off", "reject events stamped further than this in the future (1h, 1d), which would outlive retention", age(func(c *serveConfig) *time.Duration { return &c.maintenance.maxFutureSkew })},
		{"maintenance-interval", "DURATION", "1m", "how often retention and compaction run in the background (also after each seal); off: only through POST /api/_retention and /api/_compact", maintenanceInterval},
		{"compaction-max-segment-bytes", "SIZE", "1GiB", "largest segment compaction makes by merging smaller ones", size(func(c *serveConfig) *int64 { return &c.maintenance.maxSegmentBytes })},
		{"compaction-bytes-per-second", "SIZE", "64MiB", "how fast compaction may read, so ingest and queries keep the disk; unlimited: no cap", compactionRate},
		{"enable-delete", "BOOL", "false", "serve POST /api/events/_delete_by_query, which deletes events for good, to admin keys", boolean(func(c *serveConfig) *bool { return &c.server.EnableDelete })},
		{"backup-dir", "DIR", "off", "serve POST /api/_backup, which writes a backup of the store into a subdirectory of DIR named by the request (eventlog backup --url), to admin keys", backupDirSetting},
		{"insecure-no-auth", "BOOL", "false", "serve a data directory holding no API key on a non-loopback address, without authentication (a warning is logged at every start); without it such a server refuses to start", boolean(func(c *serveConfig) *bool { return &c.insecureNoAuth })},
		{"metrics-public", "BOOL", "false", "serve /metrics without an API key (for a Prometheus that has none)", boolean(func(c *serveConfig) *bool { return &c.server.MetricsPublic })},
		{"rate-limit", "RULES", "off", "per-key rate limits, space-separated WHO=REQUESTS[,BYTES] rules, WHO a role or a key id (a key's rule wins over its role's): 'reader=50/s writer=200/s,10MiB/s'; over it a request gets 429 with Retry-After", rateLimits},
		{"unknown-fields", "MODE", "reject", "fields outside the event schema in ingested documents: reject (the document fails, as in Kibana) or keep (stored, returned in place, filterable by KQL on their dotted path); a request's ?unknown_fields=keep|reject overrides it", unknownFields},
		// Outside tools: the Elasticsearch-compatible routes under /es (ingest_routes.go).
		{"es-default-provider", "NAME", "index", "event.provider of a document sent to /es without one: index (the index it was sent to) or a fixed name", esDefaultProvider},
		{"es-default-action", "NAME", "log", "event.action of a document sent to /es without one", text(func(c *serveConfig) *string { return &c.server.ES.DefaultAction })},
		{"es-unregistered", "POLICY", "register", "a provider/action pair sent to /es that is not registered: register (on first sight; GET /api/providers lists it) or strict (the document fails with 400, as on /api/events)", providerPolicy(func(c *serveConfig) *server.ProviderPolicy { return &c.server.ES.Providers })},
		{"gitlab-token-file", "FILE", "off", "serve POST /api/ingest/gitlab to GitLab's audit event streaming: FILE holds one verification token a line, each optionally followed by the spaces its events go to (TOKEN team-a,team-b); # starts a comment", gitlabTokenFile},
		{"gitlab-unregistered", "POLICY", "register", "a GitLab event_type not registered under provider gitlab: register (on first sight) or strict (400)", providerPolicy(func(c *serveConfig) *server.ProviderPolicy { return &c.server.GitLab.Route.Providers })},
		// End of the outside-tools block.
		{"max-bulk-bytes", "SIZE", "32MiB", "largest body of _bulk, or of a JSON array posted to /api/events", size(func(c *serveConfig) *int64 { return &c.server.MaxBulkBytes })},
		{"max-event-bytes", "SIZE", "1MiB", "largest event: a body, a _bulk line or an array element; also the largest query body", size(func(c *serveConfig) *int64 { return &c.server.MaxEventBytes })},
		{"max-concurrent-writes", "N", "4", "ingest requests appending at once; others wait for a slot", count(func(c *serveConfig) *int { return &c.server.MaxConcurrentWrites })},
		{"write-queue-timeout", "DURATION", "1s", "how long an ingest request waits for a slot before the answer is 429 with Retry-After", duration(func(c *serveConfig) *time.Duration { return &c.server.WriteQueueTimeout })},
		{"max-body-bytes-in-flight", "SIZE", "auto", "memory for request bodies being read or held at once, across all requests; a request that finds none within write-queue-timeout gets 429; auto: 4 × max-bulk-bytes", autoSize(func(c *serveConfig) *int64 { return &c.server.MaxBodyBytesInFlight })},
		{"min-body-rate", "SIZE", "64KiB", "slowest a request body may arrive, per second on average, once body-rate-grace has passed; a slower one is cut off with 408; off: no floor", bodyRate},
		{"body-rate-grace", "DURATION", "5s", "how long a request body may arrive at any rate before min-body-rate applies", duration(func(c *serveConfig) *time.Duration { return &c.server.BodyRateGrace })},
		{"read-header-timeout", "DURATION", "10s", "time to read a request's headers", duration(func(c *serveConfig) *time.Duration { return &c.server.ReadHeaderTimeout })},
		{"read-timeout", "DURATION", "2m", "time to read a whole request, body included", duration(func(c *serveConfig) *time.Duration { return &c.server.ReadTimeout })},
		{"idle-timeout", "DURATION", "2m", "how long an idle keep-alive connection stays open", duration(func(c *serveConfig) *time.Duration { return &c.server.IdleTimeout })},
		{"request-timeout", "DURATION", "1m", "write deadline of an answer, from the start of its handler; _export has flush-timeout instead", duration(func(c *serveConfig) *time.Duration { return &c.server.RequestTimeout })},
		{"flush-timeout", "DURATION", "30s", "write deadline of each flush of a streamed _export or _tail", duration(func(c *serveConfig) *time.Duration { return &c.server.FlushTimeout })},
		{"shutdown-timeout", "DURATION", "30s", "how long SIGINT or SIGTERM waits for the requests in flight before cutting them", duration(func(c *serveConfig) *time.Duration { return &c.server.ShutdownTimeout })},
		{"tail-heartbeat", "DURATION", "15s", "how often an idle _tail stream gets a heartbeat, which keeps proxies from closing it", duration(func(c *serveConfig) *time.Duration { return &c.server.HeartbeatInterval })},
		{"tail-max-lag", "N", "10000", "events a _tail stream holds for its client (read, not yet sent): its memory bound", count(func(c *serveConfig) *int { return &c.server.MaxTailLag })},
		{"tail-stall-timeout", "DURATION", "5s", "how long a _tail stream's buffer may stay full, its client taking nothing, before the stream ends with a slow-reader error saying where to resume", duration(func(c *serveConfig) *time.Duration { return &c.server.TailStallTimeout })},
		{"tls-cert", "FILE", "off", "serve HTTPS (TLS 1.2 or later) with this PEM certificate chain; reloaded on SIGHUP and when the files change", tlsFile(func(c *serveConfig) *string { return &c.tls.Cert })},
		{"tls-key", "FILE", "off", "the PEM private key of --tls-cert", tlsFile(func(c *serveConfig) *string { return &c.tls.Key })},
		{"tls-client-ca", "FILE", "off", "require a client certificate signed by a CA of this PEM file (mutual TLS); a second factor, not a replacement for an API key", tlsFile(func(c *serveConfig) *string { return &c.tls.ClientCA })},
		{"tls-reload-interval", "DURATION", "10s", "how often the TLS files are checked for new contents", duration(func(c *serveConfig) *time.Duration { return &c.tlsReloadInterval })},
		{"pseudonym-key-file", "FILE", "off", "pseudonymise the fields that identify a person with the key in FILE (at least 32 bytes, outside --data); $EVENTLOG_PSEUDONYM_KEY may hold the key itself instead", tlsFile(func(c *serveConfig) *string { return &c.pseudonym.keyFile })},
		{"secrets-key-file", "FILE", "off", "seal the secrets and header values of destinations created through the API with the key in FILE (at least 32 bytes, outside --data; AES-256-GCM); $EVENTLOG_SECRETS_KEY may hold the key itself instead; without one such destinations are refused", tlsFile(func(c *serveConfig) *string { return &c.secrets.keyFile })},
		{"pseudonym-fields", "LIST", strings.Join(privacy.DefaultFields, ","), "the fields pseudonymised when a key is given, separated by commas", pseudonymFields},
		{"log-level", "LEVEL", "info", "debug, info, warn or error", logLevel},
		{"log-format", "FORMAT", "text", "text or json; logs go to stderr", logFormat},
		{"pprof-addr", "HOST:PORT", "off", "serve Go's profiles (/debug/pprof/) on this second address, for finding where memory or CPU goes; keep it on loopback, it has no access control", pprofAddr},
	}, append(objectStoreSettings(), nodeSettings()...)...) // object storage: objectstore.go, node.go
}

// envName is the environment variable of a setting: EVENTLOG_SYNC_INTERVAL
// for sync-interval.
func envName(name string) string {
	return "EVENTLOG_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// envConfig names the config file when --config is not given.
const envConfig = "EVENTLOG_CONFIG"

// loadServeConfig parses the serve command line. Each setting takes the
// first of: its flag, its environment variable (lookupEnv; empty counts as
// unset), its key in the config file (--config or $EVENTLOG_CONFIG), its
// default. An error names the setting and where the bad value came from.
func loadServeConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (*serveConfig, error) {
	all := settings()
	fs := flag.NewFlagSet("eventlog serve", flag.ContinueOnError)
	fs.Usage = func() { serveUsage(fs.Output(), all) }
	flags := make([]settingFlag, len(all))
	for i := range all {
		flags[i].bool = all[i].arg == "BOOL"
		fs.Var(&flags[i], all[i].name, all[i].help)
		if flags[i].bool {
			fs.Lookup(all[i].name).NoOptDefVal = "true" // --flag alone means true
		}
	}
	configFile := fs.String("config", "", "YAML file of settings")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	c := &serveConfig{}
	for _, s := range all {
		if err := s.set(c, s.def); err != nil {
			panic(fmt.Sprintf("default of %s: %v", s.name, err)) // a bug in settings()
		}
	}
	if *configFile == "" {
		*configFile = env(lookupEnv, envConfig)
	}
	if *configFile != "" {
		if err := applyFile(c, all, *configFile); err != nil {
			return nil, err
		}
	}
	for i, s := range all {
		if v := env(lookupEnv, envName(s.name)); v != "" {
			if err := apply(c, s, v, envName(s.name)); err != nil {
				return nil, err
			}
		}
		if flags[i].set {
			if err := apply(c, s, flags[i].value, "--"+s.name); err != nil {
				return nil, err
			}
		}
	}
	if err := c.checkTLS(); err != nil {
		return nil, err
	}
	if err := c.node.check(c); err != nil {
		return nil, err
	}
	c.pseudonym.key = env(lookupEnv, envPseudonymKey)
	var err error
	if c.pseudonymizer, err = c.pseudonym.build(c.data); err != nil {
		return nil, err
	}
	c.secrets.key = env(lookupEnv, envSecretsKey)
	if c.secretsKey, err = c.secrets.load(c.data); err != nil {
		return nil, err
	}
	return c, nil
}

// checkTLS refuses TLS settings that do not go together.
func (c *serveConfig) checkTLS() error {
	switch {
	case (c.tls.Cert == "") != (c.tls.Key == ""):
		return fmt.Errorf("tls-cert and tls-key: give both or neither: %w", errUsage)
	case c.tls.ClientCA != "" && c.tls.Cert == "":
		return fmt.Errorf("tls-client-ca needs tls-cert and tls-key: mutual TLS is TLS first: %w", errUsage)
	}
	return nil
}

func env(lookupEnv func(string) (string, bool), key string) string {
	v, _ := lookupEnv(key)
	return v
}

// apply sets s to v, saying where v came from when it is bad.
func apply(c *serveConfig, s setting, v, source string) error {
	if err := s.set(c, v); err != nil {
		return fmt.Errorf("%s %q from %s: %w", s.name, v, source, err)
	}
	return nil
}

// settingFlag is a setting's flag. It only records the value: loading
// checks it, once the file and the environment are applied beneath it.
type settingFlag struct {
	value     string
	set, bool bool
}

func (f *settingFlag) String() string { return f.value }
func (f *settingFlag) Type() string   { return "" }

func (f *settingFlag) Set(v string) error {
	f.value, f.set = v, true
	return nil
}

// serveUsage prints serve's flags, each with its default and environment
// variable.
func serveUsage(w io.Writer, all []setting) {
	fmt.Fprint(w, `usage: eventlog serve [--data DIR] [--addr HOST:PORT] [--config FILE] [flags]

Serve a data directory over HTTP until SIGINT or SIGTERM, then finish the
requests in flight and close the store. Every setting is a flag, an
environment variable and a key of the YAML file --config names (a key is
named as its flag: "sync-interval: 50ms"). A flag overrides the variable,
which overrides the file, which overrides the default. SIZE is a number of
bytes, with a binary (KiB, MiB, GiB, TiB) or decimal (KB, MB, GB, TB) unit
after it or not, a fraction allowed: 500MB, 1.5GiB; DURATION is like 500ms,
30s, 2m, 1h30m, 7d or 2w.

`)
	fmt.Fprintf(w, "  --config FILE\n        YAML file of settings (env %s)\n", envConfig)
	for _, s := range all {
		arg := " " + s.arg
		if s.arg == "BOOL" {
			arg = "" // --name alone is --name=true
		}
		fmt.Fprintf(w, "  --%s%s\n        %s (default %s, env %s)\n", s.name, arg, s.help, s.def, envName(s.name))
	}
	fmt.Fprint(w, destinationsUsage)
}

// applyFile applies the settings of a YAML file: one mapping of setting
// names to scalar values. An unknown or repeated key is an error naming it
// and its line.
func applyFile(c *serveConfig, all []setting, name string) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("config %s: %w", name, err)
	}
	if len(doc.Content) == 0 { // an empty file
		return nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a mapping of settings (key: value)", name, m.Line)
	}
	byName := make(map[string]setting, len(all))
	for _, s := range all {
		byName[s.name] = s
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		where := fmt.Sprintf("%s:%d", name, k.Line)
		if k.Value == destinationsKey { // a list, not a setting (destinations.go)
			if err := applyDestinationsOnce(c, k, v, name, seen); err != nil {
				return err
			}
			continue
		}
		s, ok := byName[k.Value]
		switch {
		case !ok:
			return fmt.Errorf("%s: unknown setting %q%s", where, k.Value, suggest(k.Value, all))
		case seen[k.Value] > 0:
			return fmt.Errorf("%s: %s is already set on line %d", where, k.Value, seen[k.Value])
		case v.Kind != yaml.ScalarNode || v.Tag == "!!null":
			return fmt.Errorf("%s: %s: want one value, such as %s: %s", where, k.Value, k.Value, s.def)
		}
		seen[k.Value] = k.Line
		if err := apply(c, s, v.Value, fmt.Sprintf("%s:%d", name, v.Line)); err != nil {
			return err
		}
	}
	return nil
}

// suggest returns ` (did you mean "X"?)` for the setting nearest to an
// unknown name, or "" when none is near.
func suggest(name string, all []setting) string {
	best, bestDist := "", 4
	for _, s := range all {
		if d := levenshtein.ComputeDistance(strings.ReplaceAll(name, "_", "-"), s.name); d < bestDist {
			best, bestDist = s.name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// The parsers of setting values. Each returns what a good value looks
// like; apply adds the setting, the value and its source.

// backupDirSetting parses the directory backups are written under, or off.
// The directory must exist: a typo would otherwise surface only at the
// first backup, when it is needed.
func backupDirSetting(c *serveConfig, v string) error {
	if v == off {
		c.server.BackupDir = ""
		return nil
	}
	if st, err := os.Stat(v); err != nil || !st.IsDir() {
		return errors.New("want an existing directory")
	}
	return text(func(c *serveConfig) *string { return &c.server.BackupDir })(c, v)
}

// tlsFile is a file of the TLS settings, or off.
func tlsFile(field func(*serveConfig) *string) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		if v == off {
			*field(c) = ""
			return nil
		}
		return text(field)(c, v)
	}
}

func text(field func(*serveConfig) *string) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		if v == "" {
			return errors.New("want a value")
		}
		*field(c) = v
		return nil
	}
}

func hostPort(c *serveConfig, v string) error {
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		return errors.New("want HOST:PORT, such as 127.0.0.1:9700 or :9700")
	}
	c.addr = v
	return nil
}

func rateLimits(c *serveConfig, v string) error {
	c.server.RateLimits = auth.Limits{}
	if v == off {
		return nil
	}
	for _, rule := range strings.Fields(v) {
		if err := c.server.RateLimits.ParseLimit(rule); err != nil {
			return err
		}
	}
	return nil
}

func pprofAddr(c *serveConfig, v string) error {
	if v == "off" {
		c.pprofAddr = ""
		return nil
	}
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		return errors.New("want HOST:PORT, such as 127.0.0.1:6060, or off")
	}
	c.pprofAddr = v
	return nil
}

func syncPolicy(c *serveConfig, v string) error {
	p, err := eventlog.ParseSyncPolicy(v)
	if err != nil {
		return errors.New("want always, interval or none")
	}
	c.sync = p
	return nil
}

func duration(field func(*serveConfig) *time.Duration) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		d, err := parseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("want a positive duration, such as 500ms, 30s or 2m")
		}
		*field(c) = d
		return nil
	}
}

// segmentIdle parses a positive duration, or off (0: the head is never
// sealed for being idle).
func segmentIdle(c *serveConfig, v string) error {
	if v == off {
		c.segmentIdle = 0
		return nil
	}
	d, err := parseDuration(v)
	if err != nil || d <= 0 {
		return errors.New("want a positive duration, such as 10s or 1m, or off")
	}
	c.segmentIdle = d
	return nil
}

func boolean(field func(*serveConfig) *bool) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		*field(c) = b
		return nil
	}
}

func count(field func(*serveConfig) *int) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("want a whole number of at least 1")
		}
		*field(c) = n
		return nil
	}
}

// size is a SIZE setting: a positive parseSize size.
func size(field func(*serveConfig) *int64) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		n, err := parseSize(v)
		if err != nil {
			return errors.New(sizeForms)
		}
		*field(c) = n
		return nil
	}
}

// autoSize is a SIZE setting whose default, auto, leaves the field zero
// for the server to derive.
func autoSize(field func(*serveConfig) *int64) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		if v == "auto" {
			*field(c) = 0
			return nil
		}
		if err := size(field)(c, v); err != nil {
			return errors.New(sizeForms + ", or auto")
		}
		return nil
	}
}

// bodyRate sets min-body-rate: a size per second, or off (-1).
func bodyRate(c *serveConfig, v string) error {
	if v == off {
		c.server.MinBodyRate = -1
		return nil
	}
	if err := size(func(c *serveConfig) *int64 { return &c.server.MinBodyRate })(c, v); err != nil {
		return errors.New("want a size per second such as 64KiB, or off")
	}
	return nil
}

func logLevel(c *serveConfig, v string) error {
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	l, ok := levels[v]
	if !ok {
		return errors.New("want debug, info, warn or error")
	}
	c.logLevel = l
	return nil
}

func unknownFields(c *serveConfig, v string) error {
	keep, err := parseUnknownFields(v)
	c.server.KeepUnknownFields = keep
	return err
}

// parseUnknownFields reads an unknown-fields mode: keep or reject.
func parseUnknownFields(v string) (keep bool, err error) {
	switch v {
	case "keep":
		return true, nil
	case "reject":
		return false, nil
	}
	return false, errors.New("want reject or keep")
}

func logFormat(c *serveConfig, v string) error {
	if v != "text" && v != "json" {
		return errors.New("want text or json")
	}
	c.logJSON = v == "json"
	return nil
}
