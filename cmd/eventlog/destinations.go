package main

import (
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/destination"
	"github.com/eventlogdb/eventlog/internal/keyfile"
	"github.com/eventlogdb/eventlog/internal/sealed"
)

// destinationsKey is the config file's list of fixed destinations: the
// one setting that is neither a flag nor an environment variable, since it
// is a list of objects.
const destinationsKey = "destinations"

// applyDestinations reads the config file's destinations (file is its
// name, for errors): a list of destination.Config, each a mapping of name,
// url, filter, secret, batch_size, max_delay, format, headers,
// max_attempts and start. An unknown key is an error naming its line.
func applyDestinations(c *serveConfig, v *yaml.Node, file string) error {
	if v.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s:%d: %s: want a list of destinations (- name: ... url: ...)", file, v.Line, destinationsKey)
	}
	known := yamlKeys(reflect.TypeFor[destination.Config]())
	for _, item := range v.Content {
		if item.Kind != yaml.MappingNode {
			return fmt.Errorf("%s:%d: %s: want a destination (name: ..., url: ...)", file, item.Line, destinationsKey)
		}
		for i := 0; i+1 < len(item.Content); i += 2 {
			if k := item.Content[i]; !slices.Contains(known, k.Value) {
				return fmt.Errorf("%s:%d: %s: unknown key %q (a destination has %s)", file, k.Line, destinationsKey, k.Value, strings.Join(known, ", "))
			}
		}
	}
	var list []destination.Config
	if err := v.Decode(&list); err != nil {
		return fmt.Errorf("%s: %s: %w", file, destinationsKey, err)
	}
	c.destinations = list
	return nil
}

// yamlKeys lists the keys of a struct's yaml tags.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// openDestinations starts delivering to the destinations of the config
// file and those created through the API (kept in <data>/destinations),
// and holds retention back from the events they have not delivered yet.
func openDestinations(db *eventlog.DB, c *serveConfig, log *slog.Logger) (*destination.Manager, error) {
	m, err := destination.Open(db, filepath.Join(c.data, "destinations"), c.destinations, destination.Options{Logger: log, SecretsKey: c.secretsKey})
	if err != nil {
		return nil, err
	}
	db.SetRetentionFloor(deliveryFloor(m))
	return m, nil
}

// envSecretsKey holds the secrets key itself, for secrets passed in the
// environment; --secrets-key-file wins over it.
const envSecretsKey = "EVENTLOG_SECRETS_KEY"

// secretsConfig is where the key sealing destination secrets comes from.
type secretsConfig struct {
	keyFile string
	key     string // the key itself, from envSecretsKey
}

// load returns the key (nil when none is given), checked for length so
// that a short key stops the server at start rather than at the first
// destination. The key never appears in an error.
func (c secretsConfig) load(data string) ([]byte, error) {
	var key []byte
	switch {
	case c.keyFile != "":
		k, err := keyfile.Read("secrets key", c.keyFile, data)
		if err != nil {
			return nil, err
		}
		key = k
	case c.key != "":
		key = []byte(strings.TrimSpace(c.key))
	default:
		return nil, nil
	}
	if _, err := sealed.New(key); err != nil {
		return nil, err
	}
	return key, nil
}

// deliveryFloor is the lowest cursor of m's destinations: retention keeps
// every event above it.
func deliveryFloor(m *destination.Manager) func() uint64 {
	return func() uint64 {
		floor := uint64(math.MaxUint64)
		for _, st := range m.List() {
			floor = min(floor, st.Cursor)
		}
		return floor
	}
}

// fixedDestinations are the destinations of the config file.
type fixedDestinations = []destination.Config

// destinationsUsage ends serve's usage.
const destinationsUsage = `
The file may also list destinations, which get every stored event (or
those matching their filter), signed, at least once and in order; those
created through PUT /api/destinations/NAME are kept in DIR/destinations:

  destinations:
    - name: siem
      url: https://siem.example.com/ingest
      secret: change-me          # signs each request (X-Eventlog-Signature)
      filter: event.outcome:failure
      batch_size: 1000           # events per request
      max_delay: 200ms           # how long the first event of a batch waits
      start: beginning           # or now (the default): where a new one starts
`

// applyDestinationsOnce applies the destinations key k of the file name,
// once.
func applyDestinationsOnce(c *serveConfig, k, v *yaml.Node, name string, seen map[string]int) error {
	if line := seen[k.Value]; line > 0 {
		return fmt.Errorf("%s:%d: %s is already set on line %d", name, k.Line, k.Value, line)
	}
	seen[k.Value] = k.Line
	return applyDestinations(c, v, name)
}
