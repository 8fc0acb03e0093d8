package segment

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// These tests attack format 9's message references from outside the
// codec: stored forms a writer never makes (as a damaged or crafted file
// holds them, with every checksum right) must fail as corruption of their
// block naming the row, on every read path alike; and reads of some rows
// and some fields must give the messages of a whole read without
// touching the fields they were not asked for.

// writeStoredMessages writes rows as a version 9 file whose message
// column holds stored[i] for row i as it is, as a damaged or crafted file
// would: the writer's escaping is turned off, every checksum is right.
func writeStoredMessages(t testing.TB, path string, rows []Row, stored []string, blockRows int) {
	t.Helper()
	w, err := Create(path, WriteOptions{BlockRows: blockRows})
	if err != nil {
		t.Fatal(err)
	}
	w.stage.messageRefs, w.stage.refIDs = false, false
	for i, r := range rows {
		ev := *r.Event
		ev.Message = stored[i]
		if err := w.Add(Row{Seq: r.Seq, Event: &ev}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(); err != nil {
		t.Fatal(err)
	}
}

// storedFormRows are four rows, two blocks of two: the last one's stored
// message is the one under test, the third gives user.name and a long ref
// to the block that the last one lacks.
func storedFormRows() []Row {
	evs := make([]*event.Event, 4)
	for i := range evs {
		evs[i] = &event.Event{Message: "plain"}
		evs[i].Timestamp, _ = event.DateFromParts(int64(i+1)*1e9, 0)
	}
	evs[0].User.Name = "root-user"
	evs[2].User.Name = "elastic"
	evs[2].Kibana.SavedObjects = []event.SavedObject{{Type: "alert", ID: "0123456789", Rel: event.RelPrimary}, {Type: "alert", ID: "9876543210"}}
	last := evs[3]
	last.Rule.Name = "cpu high"
	last.Error.Code = "ok"
	last.Tags = event.Strings("a-tag")
	last.Source.IP = "10.0.0.7"
	last.Kibana.SavedObjects = []event.SavedObject{{Type: "alert", ID: "abcdefgh-1", Rel: event.RelPrimary}, {Type: "alert", ID: "short"}}
	rows := make([]Row, len(evs))
	for i, ev := range evs {
		rows[i] = Row{Seq: uint64(i + 1), Event: ev}
	}
	return rows
}

// TestMessageRefsCorruptStoredForms: each bad stored form of the last
// row fails every read of its block (whole rows, the message alone, the
// message with other fields, Verify) as a *CorruptionError of block 1
// naming row 1 and the message column; block 0 still reads; Salvage keeps
// block 0 and loses block 1. A good form of the same row reads back, so
// the check can tell.
func TestMessageRefsCorruptStoredForms(t *testing.T) {
	msgOnly := []*event.Field{event.FieldByName("message")}
	msgUser := []*event.Field{event.FieldByName("message"), event.FieldByName("user.name")}
	for name, stored := range map[string]string{
		"lone escape at the end":      "abc\x00",
		"only an escape":              "\x00",
		"field absent from the row":   "user \x00\xb0", // user.name (48): row 2 of the block has it, row 3 not
		"field absent from the block": "id \x00\xb1",   // user.id (49)
		"field too short to refer to": "code \x00\x86", // error.code (6) is "ok"
		"message itself":              "self \x00\x82", // message (2)
		"refs field":                  "refs \x00\xcf", // kibana.saved_objects (79)
		"a list":                      "tags \x00\x83", // tags (3)
		"no field of that id":         "none \x00\xff", // 127
		"wire id of a date":           "date \x00\x8c", // 12: event.created
		"ref the row lacks":           "ref \x00\x03",  // ref 2 of 2
		"ref too short to refer to":   "ref \x00\x02",  // "short"
		"ref far beyond the row's":    "ref \x00\x7f",  // ref 126
		"good then bad":               "\x00\xab \x00\x00 \x00\x01 \x00\xd0 \x00\xb0",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.seg")
			rows := storedFormRows()
			stored := []string{"plain", "plain", "plain", stored}
			writeStoredMessages(t, path, rows, stored, 2)
			r, err := Open(path, OpenOptions{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer r.Close()
			check := func(what string, err error) {
				t.Helper()
				var ce *CorruptionError
				if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: %v, want a corruption error", what, err)
				}
				if ce.Section != SectionBlock || ce.Block != 1 || ce.File != path ||
					!strings.Contains(err.Error(), "row 1") || !strings.Contains(err.Error(), "column 2") {
					t.Errorf("%s: %v, want block 1, row 1 of column 2 of %s", what, err, path)
				}
			}
			_, err = r.Events([]uint32{3})
			check("Events", err)
			_, err = r.Events(allRows(4))
			check("Events of all rows", err)
			check("message alone", r.Decode(1, []int{0, 1}, msgOnly, []*event.Event{{}, {}}))
			check("message and user.name", r.Decode(1, []int{1}, msgUser, []*event.Event{{}}))
			if err := r.Verify(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "block 1 corrupt") {
				t.Errorf("Verify: %v, want block 1 corrupt", err)
			}
			evs, err := r.Events([]uint32{0, 1})
			if err != nil || evs[0].Message != "plain" || evs[0].User.Name != "root-user" {
				t.Errorf("block 0 read as %v, %v", evs, err)
			}
			res, err := Salvage(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != 2 || res.Rows[0].Seq != 1 || res.Rows[1].Seq != 2 {
				t.Errorf("Salvage kept %d rows, want block 0's 2", len(res.Rows))
			}
			lost := 0
			for _, b := range res.Blocks {
				if b.Err != nil {
					lost++
					check("Salvage", b.Err)
				}
			}
			if lost != 1 {
				t.Errorf("Salvage lost %d blocks, want 1: %+v", lost, res.Blocks)
			}
		})
	}
	t.Run("good form", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "good.seg")
		rows := storedFormRows()
		writeStoredMessages(t, path, rows, []string{"plain", "plain", "plain", "\x00\xab \x00\x00 \x00\x01 \x00\xd0 x\x00\x00"}, 2)
		r, err := Open(path, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		want := "cpu high \x00 abcdefgh-1 10.0.0.7 x\x00"
		evs, err := r.Events([]uint32{3})
		if err != nil || evs[0].Message != want {
			t.Fatalf("Events: %q, %v; want %q", evs[0].Message, err, want)
		}
		out := []*event.Event{{}}
		if err := r.Decode(1, []int{1}, msgOnly, out); err != nil || jsonOf(out[0]) != jsonOf(&event.Event{Message: want}) {
			t.Fatalf("message alone: %s, %v", jsonOf(out[0]), err)
		}
		if err := r.Verify(); err != nil {
			t.Fatal(err)
		}
	})
}

// projectionFields are the fields TestMessageRefsProjections reads some of.
var projectionFields = []string{"message", "rule.name", "rule.id", "user.name", "kibana.alerting.instance_id",
	"kibana.alerting.action_group_id", "kibana.server_uuid", "error.code", "source.ip", "tags", "kibana.saved_objects"}

// staleEvent is an event whose fields hold values no written row has, as
// a reused scratch event does: a read must neither use nor change the
// fields it was not asked for.
func staleEvent() *event.Event {
	ev := &event.Event{Message: "stale message"}
	for _, name := range projectionFields {
		if f := event.FieldByName(name); f.Kind == event.KindString || f.Kind == event.KindIP {
			*f.Str(ev) = "stale " + name
		}
	}
	ev.Source.IP = "10.9.9.9"
	ev.Tags = event.Strings("stale-tag")
	ev.Kibana.SavedObjects = []event.SavedObject{{Type: "alert", ID: "stale-ref-0001"}, {Type: "alert", ID: "stale-ref-0002"}}
	return ev
}

// project sets in dst the fields of src among fields.
func project(dst, src *event.Event, fields []*event.Field) {
	for _, f := range fields {
		switch f.Kind {
		case event.KindString, event.KindIP:
			*f.Str(dst) = *f.Str(src)
		case event.KindStrings:
			*f.List(dst) = *f.List(src)
		case event.KindRefs:
			dst.Kibana.SavedObjects = src.Kibana.SavedObjects
		}
	}
}

// clearProjected clears fields in ev, as a query clears its scratch
// events' fields before decoding them.
func clearProjected(ev *event.Event, fields []*event.Field) { project(ev, &event.Event{}, fields) }

// TestMessageRefsProjections reads random rows and random sets of fields
// (the message among them or not) of version 8 and 9 files into events
// that hold stale values: each asked field must be the written row's,
// every other field left as it was.
func TestMessageRefsProjections(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		rows := drawMessageRows(t, 40)
		n := len(rows)
		blockRows := rapid.IntRange(1, 16).Draw(t, "blockRows")
		version := rapid.SampledFrom([]int{8, 9}).Draw(t, "version")
		r := writeOpen(t, dir, rows, WriteOptions{BlockRows: blockRows, Version: version})
		defer r.Close()
		for range rapid.IntRange(1, 4).Draw(t, "reads") {
			names := rapid.SliceOfDistinct(rapid.SampledFrom(projectionFields), rapid.ID[string]).Draw(t, "fields")
			fields := make([]*event.Field, len(names))
			for i, name := range names {
				fields[i] = event.FieldByName(name)
			}
			bi := rapid.IntRange(0, len(r.Blocks())-1).Draw(t, "block")
			b := r.Blocks()[bi]
			var want []int
			for row := range int(b.Rows) {
				if rapid.Bool().Draw(t, "take row") {
					want = append(want, row)
				}
			}
			if len(want) == 0 {
				want = []int{int(b.Rows) - 1}
			}
			out := make([]*event.Event, len(want))
			for i := range out {
				out[i] = staleEvent()
				clearProjected(out[i], fields)
			}
			if err := r.Decode(bi, want, fields, out); err != nil {
				t.Fatalf("v%d: decode %v of block %d rows %v: %v", version, names, bi, want, err)
			}
			for i, row := range want {
				exp := staleEvent()
				project(exp, rows[int(b.FirstRow)+row].Event, fields)
				if got, w := jsonOf(out[i]), jsonOf(exp); got != w {
					t.Fatalf("v%d: %v of block %d row %d read as\n%s\nwant\n%s", version, names, bi, row, got, w)
				}
			}
		}
		picked := rapid.SliceOfN(rapid.IntRange(0, n-1), 1, 8).Draw(t, "picked")
		ask := make([]uint32, len(picked))
		for i, p := range picked {
			ask[i] = uint32(p)
		}
		evs, err := r.Events(ask)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range picked {
			if got, want := jsonOf(&evs[i]), jsonOf(rows[p].Event); got != want {
				t.Fatalf("v%d: Events(%v)[%d] = %s, want %s", version, ask, i, got, want)
			}
		}
	})
}

// FuzzMessageColumn reads a file whose second row's stored message is
// arbitrary (every checksum right) through every path: a whole read, the
// message alone, the message with user.name, Verify and Salvage must all
// fail, or all give the same message; nothing may panic.
func FuzzMessageColumn(f *testing.F) {
	f.Add("\x00\xab \x00\x00 \x00\x01 \x00\xd0")
	f.Add("user \x00\xb0")
	f.Add("x\x00")
	f.Add("\x00\x01\x00\x02\x00\xcf\x00\x82")
	f.Add("")
	dir := f.TempDir()
	msgOnly := []*event.Field{event.FieldByName("message")}
	msgUser := []*event.Field{event.FieldByName("message"), event.FieldByName("user.name")}
	f.Fuzz(func(t *testing.T, stored string) {
		path := filepath.Join(dir, "fuzz.seg")
		rows := storedFormRows()[2:] // row 1 lacks the user.name row 0 has
		writeStoredMessages(t, path, rows, []string{"\x00\xb0 \x00\x01", stored}, 4)
		r, err := Open(path, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var msgs []string
		var errs []error
		evs, err := r.Events([]uint32{1})
		if err == nil {
			msgs = append(msgs, evs[0].Message)
		}
		errs = append(errs, err)
		for _, fields := range [][]*event.Field{msgOnly, msgUser} {
			out := []*event.Event{staleEvent()}
			clearProjected(out[0], fields)
			err := r.Decode(0, []int{1}, fields, out)
			if err == nil {
				msgs = append(msgs, out[0].Message)
				if len(fields) == 1 && out[0].User.Name != "stale user.name" {
					t.Errorf("message alone changed user.name to %q", out[0].User.Name)
				}
			}
			errs = append(errs, err)
		}
		errs = append(errs, r.Verify())
		res, err := Salvage(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) == 2 {
			msgs = append(msgs, res.Rows[1].Event.Message)
		}
		if len(msgs) == 0 {
			for _, err := range errs {
				var ce *CorruptionError
				if !errors.As(err, &ce) || ce.Block != 0 || !strings.Contains(err.Error(), "row 1") {
					t.Fatalf("stored %q: %v, want corruption of block 0, row 1", stored, err)
				}
			}
			if len(res.Rows) != 0 {
				t.Fatalf("stored %q: salvage kept %d rows of the bad block", stored, len(res.Rows))
			}
			return
		}
		if len(msgs) != 4 || len(slices.Compact(slices.Clone(msgs))) != 1 || errors.Join(errs...) != nil {
			t.Fatalf("stored %q read as %q, errors %v", stored, msgs, errs)
		}
		if !strings.Contains(stored, "\x00") && msgs[0] != stored {
			t.Fatalf("stored %q without escapes read as %q", stored, msgs[0])
		}
	})
}

// longSourceRow is a row whose message (n bytes of "a" with the value of
// its first source at its middle) and 58 String sources (k bytes of "a"
// and more, then "b") share their first bytes: the search through
// messageSources.pairs compared every source at every byte.
func longSourceRow(n, k int) *event.Event {
	ev := &event.Event{}
	var first string
	for si := range slots {
		f := &slots[si]
		if messageSourceSlots.has(si) && f.kind == event.KindString {
			*f.str(ev) = strings.Repeat("a", k+si) + "b"
			if first == "" {
				first = *f.str(ev)
			}
		}
	}
	ev.Message = strings.Repeat("a", n/2) + first + strings.Repeat("a", n/2) + "\x00"
	return ev
}

// TestMessageRefsLongSources: a row whose message and sources are long is
// not searched through the pair table (whose cost is their product) but
// with strings.Index, a realistic row is, and both read back.
func TestMessageRefsLongSources(t *testing.T) {
	for _, c := range []struct {
		ev   *event.Event
		pair bool
	}{
		{longSourceRow(64<<10, 4<<10), false},
		{longSourceRow(1<<10, 1<<10), false},
		{longSourceRow(100, 3), true},
		{&event.Event{Message: "user [elastic] logged in", User: event.User{Name: "elastic"}}, true},
	} {
		m := rowMask(c.ev)
		var s messageSources
		s.reset(c.ev, &m)
		if got := s.pairSearch(c.ev.Message); got != c.pair {
			t.Errorf("message of %d bytes, sources of %d: pair search %v, want %v", len(c.ev.Message), s.size, got, c.pair)
		}
		stored := appendMessage(nil, c.ev.Message, &s)
		var b strings.Builder
		if err := writeMessage(&b, string(stored), &messageRow{own: c.ev, aside: new([256]bool)}); err != nil || b.String() != c.ev.Message {
			t.Errorf("message of %d bytes read back as %d bytes, %v", len(c.ev.Message), b.Len(), err)
		}
		if len(stored) >= len(c.ev.Message)+1 {
			t.Errorf("message of %d bytes stored in %d: its source was not referred to", len(c.ev.Message), len(stored))
		}
	}
}

// TestMessageSourceFields: the fields a message may refer to are the
// String and IP fields but message whose wire id has a code (below 128):
// a field of a later wire id, as a new schema may add, is not one, and
// every code of a source names it back.
func TestMessageSourceFields(t *testing.T) {
	for _, c := range []struct {
		f    event.Field
		want bool
	}{
		{event.Field{ID: 127, Kind: event.KindString}, true},
		{event.Field{ID: 127, Kind: event.KindIP}, true},
		{event.Field{ID: 128, Kind: event.KindString}, false},
		{event.Field{ID: 255, Kind: event.KindIP}, false},
		{event.Field{ID: colMessage, Kind: event.KindString}, false},
		{event.Field{ID: 3, Kind: event.KindStrings}, false},
		{event.Field{ID: 4, Kind: event.KindExtra}, false},
	} {
		if got := messageSource(&c.f); got != c.want {
			t.Errorf("field %d of kind %d: source %v, want %v", c.f.ID, c.f.Kind, got, c.want)
		}
	}
	for _, f := range event.Fields() {
		k := fieldRefBase + int(f.ID)
		if messageSource(&f) && (k > 0xff || event.FieldByID(byte(k-fieldRefBase)) == nil || event.FieldByID(byte(k-fieldRefBase)).Name != f.Name) {
			t.Errorf("source %s (wire id %d) has no code naming it", f.Name, f.ID)
		}
	}
}
