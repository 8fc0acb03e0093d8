package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// registryFile holds the registered provider/action pairs as JSON
// ({"providers": {"actions": ["execute", ...]}}), replaced atomically.
const registryFile = "registry.json"

// registry is the set of provider/action pairs events may use.
type registry struct {
	fs   vfs.FS
	path string // "" in read-only mode: never written

	mu        sync.RWMutex
	providers map[string]map[string]bool
}

type registryDoc struct {
	Providers map[string][]string `json:"providers"`
}

func loadRegistry(fsys vfs.FS, dir string, readOnly bool) (*registry, error) {
	r := &registry{fs: fsys, path: filepath.Join(dir, registryFile), providers: map[string]map[string]bool{}}
	data, err := vfs.ReadFile(fsys, r.path)
	if errors.Is(err, fs.ErrNotExist) {
		err, data = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eventlog: registry: %w", err)
	}
	if data != nil {
		var doc registryDoc
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("eventlog: registry %s: %w", r.path, err)
		}
		for p, acts := range doc.Providers {
			r.add(p, acts)
		}
	}
	if readOnly {
		r.path = ""
	}
	return r, nil
}

// add adds the pairs and reports whether any was new. It keeps copies of
// the names: a caller's strings may share memory it reuses (the server's
// _bulk decodes events without copying its body).
func (r *registry) add(provider string, actions []string) (changed bool) {
	set := r.providers[provider]
	if set == nil {
		set = map[string]bool{}
		r.providers[strings.Clone(provider)] = set
		changed = true
	}
	for _, a := range actions {
		if !set[a] {
			set[strings.Clone(a)] = true
			changed = true
		}
	}
	return changed
}

// register adds the pairs and persists the registry if it changed.
func (r *registry) register(provider string, actions []string) error {
	if provider == "" || slices.Contains(actions, "") {
		return errors.New("eventlog: register: provider and actions must not be empty")
	}
	if r.path == "" {
		return ErrReadOnly
	}
	provider = strings.Clone(provider) // a key of r.providers from here on: see add
	r.mu.Lock()
	defer r.mu.Unlock()
	// Change a copy and keep it only once saved, so a failed save leaves
	// the registry as it was and a retry saves again.
	saved := r.providers
	r.providers = maps.Clone(saved)
	r.providers[provider] = maps.Clone(saved[provider])
	if !r.add(provider, actions) {
		r.providers = saved
		return nil
	}
	data, err := json.MarshalIndent(registryDoc{Providers: r.listLocked()}, "", "  ")
	if err == nil {
		err = vfs.WriteFileAtomic(r.fs, r.path, append(data, '\n'))
	}
	if err != nil {
		r.providers = saved
		return fmt.Errorf("eventlog: register: save %s: %w", r.path, err)
	}
	return nil
}

func (r *registry) listLocked() map[string][]string {
	out := make(map[string][]string, len(r.providers))
	for p, set := range r.providers {
		acts := make([]string, 0, len(set))
		for a := range set {
			acts = append(acts, a)
		}
		sort.Strings(acts)
		out[p] = acts
	}
	return out
}

func (r *registry) list() map[string][]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.listLocked()
}

func (r *registry) isRegistered(provider, action string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.providers[provider][action]
}

// check explains why a pair is not registered, or returns nil.
func (r *registry) check(provider, action string) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	set, ok := r.providers[provider]
	switch {
	case provider == "":
		return fmt.Errorf("%w: event.provider is missing", ErrUnregistered)
	case !ok:
		names := make([]string, 0, len(r.providers))
		for p := range r.providers {
			names = append(names, p)
		}
		sort.Strings(names)
		return fmt.Errorf("%w: provider %q is not registered (registered providers: %s)", ErrUnregistered, provider, orNone(names))
	case set[action]:
		return nil
	case action == "":
		return fmt.Errorf("%w: event.action is missing (provider %q has: %s)", ErrUnregistered, provider, orNone(sortedKeys(set)))
	default:
		return fmt.Errorf("%w: provider %q has no action %q (registered actions: %s)", ErrUnregistered, provider, action, orNone(sortedKeys(set)))
	}
}

func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
