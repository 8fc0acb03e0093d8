package segment

import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestRefIDsRoundTrip checks, on messages assembled from the row's
// ref ids (whole, cut, overlapping, repeated), NULs and other text, that
// the stored form reads back byte for byte and is no longer than the
// message plus one byte per NUL, and that a message naming one of its
// refs' ids is stored shorter than it is.
func TestRefIDsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		idGen := rapid.OneOf(
			rapid.StringMatching(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`),
			rapid.StringMatching(`[a-c\x00\x01]{0,12}`),
		)
		ids := rapid.SliceOfN(idGen, 0, 4).Draw(t, "ids")
		refs := make([]event.SavedObject, len(ids))
		for i, id := range ids {
			refs[i] = event.SavedObject{ID: id, Type: "alert"}
		}
		var msg strings.Builder
		for range rapid.IntRange(0, 8).Draw(t, "pieces") {
			switch piece := rapid.IntRange(0, 3).Draw(t, "piece"); {
			case piece == 0 && len(ids) > 0:
				msg.WriteString(ids[rapid.IntRange(0, len(ids)-1).Draw(t, "ref")])
			case piece == 1 && len(ids) > 0:
				id := ids[rapid.IntRange(0, len(ids)-1).Draw(t, "ref")]
				msg.WriteString(id[:rapid.IntRange(0, len(id)).Draw(t, "cut")])
			case piece == 2:
				msg.WriteByte(0)
			default:
				msg.WriteString(rapid.String().Draw(t, "text"))
			}
		}
		m := msg.String()
		var prepared rowRefIDs
		prepared.reset(refs)
		// Staged as a block stage does, after a value already kept,
		// which must stay as it was.
		var c colStage
		before := rapid.String().Draw(t, "before")
		kept := c.keep(before)
		stored := c.keepRefIDs(m, &prepared)
		if kept != before {
			t.Fatalf("a value kept before changed: %q, want %q", kept, before)
		}
		got, err := decodeRefIDs(stored, refs)
		if err != nil {
			t.Fatalf("decode %q: %v", stored, err)
		}
		if got != m {
			t.Fatalf("round trip: %q -> %q -> %q", m, stored, got)
		}
		if want := scanRefIDs(m, refs); stored != want {
			t.Fatalf("stored form %q, the rule of FORMAT.md gives %q", stored, want)
		}
		if max := len(m) + strings.Count(m, "\x00"); len(stored) > max {
			t.Fatalf("stored form %d bytes, more than %d: %q", len(stored), max, stored)
		}
		if named(m, refs) && len(stored) >= len(m)+strings.Count(m, "\x00") {
			t.Fatalf("message names a ref id yet its stored form %q is not shorter than %q", stored, m)
		}
	})
}

// TestRefIDsRejectsBadForms checks that a stored form whose escape
// is cut short or names a ref the row does not have is an error, not a
// guess.
func TestRefIDsRejectsBadForms(t *testing.T) {
	refs := []event.SavedObject{{ID: "0123456789"}, {ID: "short"}}
	for _, s := range []string{"x\x00", "\x00\x03", "a\x00\x02b", "\x00\xff"} {
		if got, err := decodeRefIDs(s, refs); err == nil {
			t.Errorf("decode %q = %q, want an error", s, got)
		}
	}
	if got, err := decodeRefIDs("a\x00\x01b\x00\x00", refs); err != nil || got != "a0123456789b\x00" {
		t.Errorf("decode = %q, %v", got, err)
	}
}

// TestRefIDsThroughSegment writes rows whose messages and rule ids name
// their refs as version 3 and as version 4 and checks that both give every
// value back when those fields are read without the refs, without adding
// refs to the events, and verify clean.
func TestRefIDsThroughSegment(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 40).Draw(t, "rows")
		rows := make([]Row, n)
		for i := range rows {
			ev := &event.Event{}
			ev.Timestamp, _ = event.DateFromParts(int64(i)*1e9, 0)
			nrefs := rapid.IntRange(0, 3).Draw(t, "refs")
			for j := range nrefs {
				ev.Kibana.SavedObjects = append(ev.Kibana.SavedObjects, event.SavedObject{
					Type: "alert", ID: rapid.StringMatching(`[0-9a-f]{8}-[0-9a-f]{4}`).Draw(t, "id"), Rel: []string{"", event.RelPrimary}[j%2]})
			}
			var m strings.Builder
			for range rapid.IntRange(0, 3).Draw(t, "parts") {
				if nrefs > 0 && rapid.Bool().Draw(t, "named") {
					m.WriteString(ev.Kibana.SavedObjects[rapid.IntRange(0, nrefs-1).Draw(t, "which")].ID)
				}
				m.WriteString(rapid.StringMatching(`[ a-z:\x00]{0,6}`).Draw(t, "text"))
			}
			ev.Message = m.String()
			if nrefs > 0 && rapid.Bool().Draw(t, "rule is ref") {
				ev.Rule.ID = ev.Kibana.SavedObjects[0].ID
			}
			rows[i] = Row{Seq: uint64(i + 1), Event: ev}
		}
		blockRows := rapid.IntRange(1, 16).Draw(t, "blockRows")
		// Some rows of each block, so that a column's escapes may all be
		// in rows not asked for (expandRefIDs scans only the columns
		// whose decoded values hold one).
		every := rapid.IntRange(1, 3).Draw(t, "every")
		for _, version := range []int{3, 4, Version} {
			r := writeOpen(t, dir, rows, WriteOptions{BlockRows: blockRows, Version: version})
			msgOnly := []*event.Field{event.FieldByName("message"), event.FieldByName("rule.id")}
			for bi, b := range r.Blocks() {
				var want []int
				var out []*event.Event
				for i := 0; i < int(b.Rows); i += every {
					want, out = append(want, i), append(out, &event.Event{})
				}
				if err := r.Decode(bi, want, msgOnly, out); err != nil {
					t.Fatal(err)
				}
				for k, ev := range out {
					i := want[k]
					orig := rows[int(b.FirstRow)+i].Event
					if ev.Message != orig.Message || ev.Rule.ID != orig.Rule.ID || ev.Kibana.SavedObjects != nil {
						t.Fatalf("v%d block %d row %d: message %q rule.id %q refs %v, want %q, %q and no refs",
							version, bi, i, ev.Message, ev.Rule.ID, ev.Kibana.SavedObjects, orig.Message, orig.Rule.ID)
					}
				}
			}
			if err := r.Verify(); err != nil {
				t.Fatalf("v%d: %v", version, err)
			}
			r.Close()
		}
	})
}

// named reports, as the model of the writer's choice, whether msg holds
// the id of one of the first 255 refs that is at least 8 bytes long and
// holds no NUL.
func named(msg string, refs []event.SavedObject) bool {
	for k, r := range refs {
		if k < 255 && len(r.ID) >= 8 && !strings.Contains(r.ID, "\x00") && strings.Contains(msg, r.ID) {
			return true
		}
	}
	return false
}

// scanRefIDs is FORMAT.md's rule as written, byte by byte: the model the
// writer's faster search must agree with.
func scanRefIDs(msg string, refs []event.SavedObject) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		if msg[i] == 0 {
			b.WriteString("\x00\x00")
			i++
			continue
		}
		k, n := -1, 0
		for j, r := range refs {
			if j < 255 && len(r.ID) >= 8 && len(r.ID) > n && !strings.Contains(r.ID, "\x00") && strings.HasPrefix(msg[i:], r.ID) {
				k, n = j, len(r.ID)
			}
		}
		if k >= 0 {
			b.WriteByte(0)
			b.WriteByte(byte(k + 1))
			i += n
			continue
		}
		b.WriteByte(msg[i])
		i++
	}
	return b.String()
}
