package destination

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

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
// created through the API) and NAME.state (progress).
type files struct{ dir string }

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

func (f files) saveConfig(c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomicMode(vfs.OS{}, f.configPath(c.Name), b, 0o600) // holds the secret
}

// loadConfigs reads every config created through the API.
func (f files) loadConfigs() ([]Config, error) {
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
