package server

import (
	"runtime"
	"testing"
)

// TestLargeBodyBufferOutlivesGC: the buffer of a body over bigBodyMin is
// kept across garbage collections (a sync.Pool would have dropped it by the
// second), is what the next large body is read into, and a second body read
// into it, shorter than the first, stores exactly its own events: nothing of
// the first body's bytes shows through.
func TestLargeBodyBufferOutlivesGC(t *testing.T) {
	e := newEnv(t, Config{})
	docs := func(from int) []string {
		var out []string
		for size, i := 0, from; size < bigBodyMin+bigBodyMin/4; i++ {
			out = append(out, oneEvent(i))
			size += len(out[len(out)-1]) + 1
		}
		return out
	}
	first := docs(0)
	e.bulk(first...)
	runtime.GC()
	runtime.GC()
	if n := e.srv.bigBodies.Len(); n != 1 {
		t.Fatalf("%d large body buffers kept after two collections, want 1", n)
	}
	kept := e.srv.bigBodies.Get(bigBodyMin)
	e.srv.bigBodies.Put(kept)
	u := &upload{s: e.srv}
	if b := u.grow(nil, bigBodyMin); cap(b) != cap(kept) || &b[:1][0] != &kept[:1][0] {
		t.Fatalf("a large body is read into a new buffer, not the kept one")
	}
	e.srv.bigBodies.Put(kept)

	second := docs(len(first))[:len(first)*9/10] // shorter: the first body's tail stays in the buffer
	e.bulk(second...)
	e.wantCount(len(first) + len(second))
	if n := e.srv.bigBodies.Len(); n != 1 {
		t.Fatalf("%d large body buffers kept after the second body, want 1", n)
	}
}
