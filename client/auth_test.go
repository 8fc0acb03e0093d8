package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestAPIKeyIsSentAndRefusalsAreFinal: Options.APIKey goes with every
// request as "ApiKey ...", and a 401 is answered at once, not retried.
func TestAPIKeyIsSentAndRefusalsAreFinal(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "ApiKey abc" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"status":401,"error":{"type":"unauthenticated","reason":"no credentials"}}`))
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer ts.Close()
	for key, want := range map[string]int{"abc": http.StatusOK, "": http.StatusUnauthorized} {
		calls.Store(0)
		c, err := New(ts.URL, &Options{APIKey: key})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Do(context.Background(), http.MethodGet, "api/providers", nil, nil, nil)
		var ae *APIError
		switch {
		case want == http.StatusOK && err != nil:
			t.Errorf("key %q: %v", key, err)
		case want != http.StatusOK && (!errors.As(err, &ae) || ae.Status != want):
			t.Errorf("key %q: %v, want a %d", key, err, want)
		}
		if calls.Load() != 1 {
			t.Errorf("key %q: %d requests, want 1 (no retry)", key, calls.Load())
		}
	}
}
