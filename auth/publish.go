package auth

import (
	"encoding/json"
	"fmt"
)

// Published returns the keys as a writer publishes them for read-only
// nodes (package tiering): the key file's form with every key's id, name,
// role, scope, times and secret hash, and no last use (which is each
// server's own). Secrets are never stored, so none is published.
func (s *Store) Published() []byte {
	set := s.set.Load()
	f := keyFile{Version: fileVersion, Keys: make([]record, len(set.order))}
	for i, e := range set.order {
		f.Keys[i] = record{Key: e.key, Hash: e.hash} // e.key.LastUsed is zero: uses live in e.lastUsed
	}
	data, _ := json.MarshalIndent(f, "", "  ") // plain strings and times: it cannot fail
	return append(data, '\n')
}

// Replace makes the store hold the keys of data, a key file as Published
// returns it (a read-only node following a writer's bucket), keeping
// when each key it already held was last used here, and writes its own
// file. Data that does not parse, or names a bad role, space or hash,
// changes nothing and is an error naming the problem.
func (s *Store) Replace(data []byte) error {
	next, err := decodeFile(data)
	if err != nil {
		return fmt.Errorf("auth: published keys: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.set.Load()
	for id, e := range next.byID {
		if old := cur.byID[id]; old != nil {
			e.lastUsed.Store(old.lastUsed.Load())
			e.flushed = old.flushed
		}
	}
	if err := s.write(next); err != nil {
		return err
	}
	s.set.Store(next)
	return nil
}

// OnChange sets fn to be called after every Create and Revoke (a writer
// publishing its keys to a bucket republishes them). Set it before the
// store is shared.
func (s *Store) OnChange(fn func()) { s.onChange = fn }

// changed calls the OnChange function, if any.
func (s *Store) changed() {
	if s.onChange != nil {
		s.onChange()
	}
}
