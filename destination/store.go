package destination

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/eventlogdb/eventlog/internal/sealed"
	"github.com/eventlogdb/eventlog/internal/vfs"
)

// progress is a destination's persisted delivery state.
type progress struct {
	// Cursor is the last sequence number delivered (or passed over).
	Cursor uint64 `json:"cursor"`
	// InFlight is the batch being sent, persisted before the first try so a
	// restart sends the same batch again.
	InFlight *seqRange `json:"in_flight,omitempty"`
	// Parked is why delivery stopped, "" while it runs.
	Parked string `json:"parked,omitempty"`
}

// seqRange is a batch's first and last sequence numbers.
type seqRange struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

func (r seqRange) key() string { return fmt.Sprintf("%d-%d", r.First, r.Last) }

// files reads and writes a destination directory: NAME.json (configs
// created through the API, their secret and header values sealed under
// box) and NAME.state (progress).
type files struct {
	dir string
	box *sealed.Box // nil: no secrets key, so no config with secrets can be saved
}

func (f files) configPath(name string) string { return filepath.Join(f.dir, name+".json") }
func (f files) statePath(name string) string  { return filepath.Join(f.dir, name+".state") }

func (f files) loadProgress(name string) (progress, bool, error) {
	var p progress
	b, err := os.ReadFile(f.statePath(name))
	if os.IsNotExist(err) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("destination %s: %w", name, err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, false, fmt.Errorf("destination %s: %s: %w", name, f.statePath(name), err)
	}
	if p.InFlight != nil && (p.InFlight.First == 0 || p.InFlight.First > p.InFlight.Last || p.InFlight.First <= p.Cursor) {
		return p, false, fmt.Errorf("destination %s: %s: in-flight range %+v does not follow cursor %d", name, f.statePath(name), *p.InFlight, p.Cursor)
	}
	return p, true, nil
}

func (f files) saveProgress(name string, p progress) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(vfs.OS{}, f.statePath(name), b)
}

// ErrNoSecretsKey: a destination with a secret or headers was to be
// saved, and the manager has no key to seal them with.
var ErrNoSecretsKey = errors.New("a destination's secret and header values are kept sealed, and no secrets key is set: start the server with --secrets-key-file FILE (or $EVENTLOG_SECRETS_KEY)")

// secretContext names what a sealed value is for, so that it opens
// nowhere else.
func secretContext(dest, field string) string { return "destination/" + dest + "/" + field }

// checkSealable says whether c can be saved: one without secrets always
// can; one with them needs the key.
func (f files) checkSealable(c Config) error {
	if f.box == nil && (c.Secret != "" || len(c.Headers) > 0) {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, c.Name, ErrNoSecretsKey)
	}
	return nil
}

// saveConfig writes c with its secret and header values sealed.
func (f files) saveConfig(c Config) error {
	if err := f.checkSealable(c); err != nil {
		return err
	}
	if c.Secret != "" {
		c.Secret = f.box.Seal(c.Secret, secretContext(c.Name, "secret"))
	}
	if len(c.Headers) > 0 {
		sealedHeaders := make(map[string]string, len(c.Headers))
		for k, v := range c.Headers {
			sealedHeaders[k] = f.box.Seal(v, secretContext(c.Name, "header/"+k))
		}
		c.Headers = sealedHeaders
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomicMode(vfs.OS{}, f.configPath(c.Name), b, 0o600)
}

// openConfig opens c's sealed values in place. clear reports values that
// were not sealed: a config written before secrets were sealed, which the
// caller seals now if it can.
func (f files) openConfig(c *Config) (clear bool, err error) {
	open := func(v, field string) (string, error) {
		if !sealed.IsSealed(v) {
			clear = true
			return v, nil
		}
		if f.box == nil {
			return "", fmt.Errorf("destination %s: %s is sealed: %w", c.Name, field, ErrNoSecretsKey)
		}
		return f.box.Open(v, secretContext(c.Name, field))
	}
	if c.Secret != "" {
		if c.Secret, err = open(c.Secret, "secret"); err != nil {
			return false, err
		}
	}
	if len(c.Headers) > 0 {
		opened := make(map[string]string, len(c.Headers))
		for k, v := range c.Headers {
			if opened[k], err = open(v, "header/"+k); err != nil {
				return false, err
			}
		}
		c.Headers = opened
	}
	return clear, nil
}

// loadConfigs reads every config created through the API, its sealed
// values opened. A config whose values are still in the clear (written
// before they were sealed) is rewritten sealed when there is a key, and
// logged when there is none.
func (f files) loadConfigs(log *slog.Logger) ([]Config, error) {
	paths, err := filepath.Glob(filepath.Join(f.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []Config
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var c Config
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if want := filepath.Base(p); want != c.Name+".json" {
			return nil, fmt.Errorf("%s: holds destination %q", p, c.Name)
		}
		clear, err := f.openConfig(&c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		switch {
		case clear && f.box != nil:
			if err := f.saveConfig(c); err != nil {
				return nil, fmt.Errorf("%s: sealing its secrets: %w", p, err)
			}
			log.Info("destination secrets sealed", "destination", c.Name, "file", p)
		case clear:
			log.Warn("destination secrets are in the clear on disk: set a secrets key to seal them", "destination", c.Name, "file", p)
		}
		out = append(out, c)
	}
	return out, nil
}

func (f files) remove(name string) error {
	for _, p := range []string{f.configPath(name), f.statePath(name)} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return vfs.OS{}.SyncDir(f.dir)
}
