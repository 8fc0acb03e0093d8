package main

import (
	"errors"
	"os"
	"strings"

	"github.com/eventlogdb/eventlog/privacy"
)

// The environment variables of pseudonymisation. Serve also takes the
// file and the fields as settings (flags, config file); the commands that
// open a data directory themselves read these, so that what they store
// and the filters they run are pseudonymised as a server's are.
const (
	envPseudonymKeyFile = "EVENTLOG_PSEUDONYM_KEY_FILE"
	// envPseudonymKey holds the key itself, for secrets passed in the
	// environment; a key file wins over it.
	envPseudonymKey    = "EVENTLOG_PSEUDONYM_KEY"
	envPseudonymFields = "EVENTLOG_PSEUDONYM_FIELDS"
)

// pseudonymConfig is where the key comes from and which fields it covers.
type pseudonymConfig struct {
	keyFile string
	key     string   // the key itself, from envPseudonymKey
	fields  []string // nil: privacy.DefaultFields
}

// build returns the Pseudonymizer of c for the data directory data, or
// nil when no key is given. The key never appears in an error.
func (c pseudonymConfig) build(data string) (*privacy.Pseudonymizer, error) {
	var key []byte
	switch {
	case c.keyFile != "":
		k, err := privacy.LoadKey(c.keyFile, data)
		if err != nil {
			return nil, err
		}
		key = k
	case c.key != "":
		key = []byte(strings.TrimSpace(c.key))
	default: // the fields apply once a key is given
		return nil, nil
	}
	return privacy.New(key, c.fields)
}

// pseudonymFromEnv is the pseudonymisation the environment asks for, for
// the commands that open data itself.
func pseudonymFromEnv(data string) (*privacy.Pseudonymizer, error) {
	c := pseudonymConfig{keyFile: os.Getenv(envPseudonymKeyFile), key: os.Getenv(envPseudonymKey)}
	if v := os.Getenv(envPseudonymFields); v != "" {
		c.fields = splitList(v)
	}
	return c.build(data)
}

// pseudonymFields parses the pseudonym-fields setting: a comma-separated
// list of field names.
func pseudonymFields(c *serveConfig, v string) error {
	fields := splitList(v)
	if len(fields) == 0 {
		return errors.New("want field names separated by commas, such as user.name,source.ip")
	}
	c.pseudonym.fields = fields
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
