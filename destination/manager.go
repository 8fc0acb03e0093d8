package destination

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/internal/sealed"
)

// Errors of the Manager's API.
var (
	ErrNotFound = errors.New("no such destination")
	// ErrFixed: the destination comes from the config file.
	ErrFixed = errors.New("destination is defined in the config file")
)

// Options tune a Manager; zero values are defaults.
type Options struct {
	// Client sends the requests. Nil: a client with a 30 s timeout.
	Client *http.Client
	// MinBackoff and MaxBackoff are the first and the largest step of the
	// retry backoff (client.NewBackOff: each wait is drawn within ±50% of
	// its step). Zero: 100 ms, 30 s.
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
	// SecretsKey seals the secret and header values of destinations
	// created through the API before they are written to dir (package
	// internal/sealed: AES-256-GCM under a key derived from these bytes,
	// at least 32). Keep it outside the data directory. Nil: such
	// destinations are refused (ErrNoSecretsKey); destinations without
	// secrets need no key.
	SecretsKey []byte
}

// Manager runs the destinations of one store: those of the config file
// (fixed) and those created through its API (persisted in dir).
type Manager struct {
	db    *eventlog.DB
	files files
	send  *sender
	log   *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	ws     map[string]*running
}

// running is a worker and what stops it.
type running struct {
	w      *worker
	cancel context.CancelFunc
	done   chan struct{}
}

// Open loads the destinations created through the API from dir (created
// if needed), adds the fixed ones, and starts delivering. A name defined in
// both is an error.
func Open(db *eventlog.DB, dir string, fixed []Config, opts Options) (*Manager, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("destinations: %w", err)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	opts.MinBackoff = min(opts.MinBackoff, opts.MaxBackoff)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f := files{dir: dir}
	if opts.SecretsKey != nil {
		box, err := sealed.New(opts.SecretsKey)
		if err != nil {
			return nil, fmt.Errorf("destinations: %w", err)
		}
		f.box = box
	}
	m := &Manager{
		db: db, files: f, log: opts.Logger, ws: map[string]*running{},
		send: &sender{client: opts.Client, minBackoff: opts.MinBackoff, maxBackoff: opts.MaxBackoff, now: time.Now},
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	stored, err := m.files.loadConfigs(m.log)
	if err != nil {
		return nil, fmt.Errorf("destinations: %w", err)
	}
	for _, c := range fixed {
		if slices.ContainsFunc(stored, func(s Config) bool { return s.Name == c.Name }) {
			return nil, fmt.Errorf("destinations: %q is defined both in the config file and through the API (%s)", c.Name, m.files.configPath(c.Name))
		}
	}
	for i, list := range [][]Config{fixed, stored} {
		for _, c := range list {
			if _, err := m.start(c, i == 0); err != nil {
				m.Close()
				return nil, err
			}
		}
	}
	return m, nil
}

// start checks c, loads or creates its progress and runs its worker.
func (m *Manager) start(c Config, fixed bool) (*running, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, dup := m.ws[c.Name]; dup {
		return nil, fmt.Errorf("%w: %s: defined twice", ErrInvalid, c.Name)
	}
	prog, ok, err := m.files.loadProgress(c.Name)
	if err != nil {
		return nil, err
	}
	if !ok {
		if c.Start == "now" {
			s := m.db.Stats()
			prog.Cursor = min(s.LastSeq, s.DurableSeq)
		}
		if err := m.files.saveProgress(c.Name, prog); err != nil {
			return nil, fmt.Errorf("destination %s: %w", c.Name, err)
		}
	}
	w := &worker{cfg: c, fixed: fixed, db: m.db, files: m.files, send: m.send, log: m.log, prog: prog, resume: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(m.ctx)
	r := &running{w: w, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		w.run(ctx)
	}()
	m.ws[c.Name] = r
	return r, nil
}

// Put creates a destination, or replaces the config of one created
// through the API (keeping its cursor), and persists it.
func (m *Manager) Put(c Config) (Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := c.withDefaults(); err != nil {
		return Status{}, err
	}
	if err := m.files.checkSealable(c); err != nil {
		return Status{}, err
	}
	// Kept pseudonymised, like every filter the store holds.
	text, err := m.db.Pseudonymizer().FilterText(c.Filter)
	if err != nil {
		return Status{}, fmt.Errorf("%w: %s: %w", ErrInvalid, c.Name, err)
	}
	c.Filter = text
	if r := m.ws[c.Name]; r != nil {
		if r.w.fixed {
			return Status{}, fmt.Errorf("%w: %s", ErrFixed, c.Name)
		}
		m.stop(r)
		delete(m.ws, c.Name)
		if r.w.cfg.Filter != c.Filter && r.w.prog.InFlight != nil {
			// The in-flight batch was cut with the old filter and cannot be
			// rebuilt with the new one: the new filter applies from the
			// cursor on.
			p := r.w.prog
			p.InFlight = nil
			if err := m.files.saveProgress(c.Name, p); err != nil {
				return Status{}, fmt.Errorf("destination %s: %w", c.Name, err)
			}
		}
	}
	if err := m.files.saveConfig(c); err != nil {
		return Status{}, fmt.Errorf("destination %s: %w", c.Name, err)
	}
	r, err := m.start(c, false)
	if err != nil {
		return Status{}, err
	}
	return r.w.status(), nil
}

// Delete stops a destination created through the API and removes its
// files.
func (m *Manager) Delete(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.ws[name]
	switch {
	case r == nil:
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	case r.w.fixed:
		return fmt.Errorf("%w: %s", ErrFixed, name)
	}
	m.stop(r)
	delete(m.ws, name)
	return m.files.remove(name)
}

// Resume restarts a parked destination with the batch it stopped at.
func (m *Manager) Resume(name string) (Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.ws[name]
	if r == nil {
		return Status{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	select {
	case r.w.resume <- struct{}{}:
	default:
	}
	return r.w.status(), nil
}

// Get returns a destination's status.
func (m *Manager) Get(name string) (Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.ws[name]
	if r == nil {
		return Status{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return r.w.status(), nil
}

// List returns every destination's status, by name.
func (m *Manager) List() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.ws))
	for _, r := range m.ws {
		out = append(out, r.w.status())
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (m *Manager) stop(r *running) {
	r.cancel()
	<-r.done
}

// Close stops every destination and waits for its worker; progress is
// already on disk.
func (m *Manager) Close() error {
	m.cancel()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.ws {
		<-r.done
	}
	return nil
}
