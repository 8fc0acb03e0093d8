package segment

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// messageFields are the fields the tests fill for messages to refer to:
// String fields, an IP field, and a list, which a message cannot refer
// to.
var messageFields = []string{"rule.name", "rule.id", "user.name", "kibana.alerting.instance_id",
	"kibana.alerting.action_group_id", "kibana.server_uuid", "error.code", "source.ip"}

// drawMessageRows draws 1 to most rows of drawMessageRow, a second apart.
func drawMessageRows(t *rapid.T, most int) []Row {
	rows := make([]Row, rapid.IntRange(1, most).Draw(t, "rows"))
	for i := range rows {
		ev := drawMessageRow(t)
		ev.Timestamp, _ = event.DateFromParts(int64(i)*1e9, 0)
		rows[i] = Row{Seq: uint64(i + 1), Event: ev}
	}
	return rows
}

// drawMessageRow draws an event with refs, some of messageFields and
// tags, and a message assembled from its values (whole, cut, repeated),
// NULs, bytes of 0x80 and above and other text.
func drawMessageRow(t *rapid.T) *event.Event {
	ev := &event.Event{}
	var vals []string
	for j := range rapid.IntRange(0, 3).Draw(t, "refs") {
		id := rapid.OneOf(
			rapid.StringMatching(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`),
			rapid.StringMatching(`[a-c\x00]{0,10}`),
		).Draw(t, "id")
		ev.Kibana.SavedObjects = append(ev.Kibana.SavedObjects, event.SavedObject{
			Type: "alert", ID: id, Rel: []string{event.RelPrimary, ""}[min(j, 1)]})
		vals = append(vals, id)
	}
	for _, name := range messageFields {
		if !rapid.Bool().Draw(t, "has "+name) {
			continue
		}
		v := rapid.StringMatching(`[a-c \x00é-]{0,9}`).Draw(t, name)
		if name == "source.ip" {
			v = rapid.SampledFrom([]string{"10.0.0.1", "10.0.0.12", "::1"}).Draw(t, name)
		}
		*event.FieldByName(name).Str(ev) = v
		vals = append(vals, v)
	}
	if rapid.Bool().Draw(t, "tags") {
		ev.Tags = event.Strings("prod-tag")
		vals = append(vals, "prod-tag")
	}
	var m strings.Builder
	for range rapid.IntRange(0, 8).Draw(t, "pieces") {
		switch piece := rapid.IntRange(0, 4).Draw(t, "piece"); {
		case piece == 0 && len(vals) > 0:
			m.WriteString(rapid.SampledFrom(vals).Draw(t, "value"))
		case piece == 1 && len(vals) > 0:
			v := rapid.SampledFrom(vals).Draw(t, "value")
			m.WriteString(v[:rapid.IntRange(0, len(v)).Draw(t, "cut")])
		case piece == 2:
			m.WriteByte(0)
		case piece == 3:
			m.WriteByte(byte(rapid.IntRange(0x80, 0xff).Draw(t, "high")))
		default:
			m.WriteString(rapid.String().Draw(t, "text"))
		}
	}
	ev.Message = m.String()
	return ev
}

// rowMask is the mask of e's present fields, as the writer computes it.
func rowMask(e *event.Event) mask {
	var m mask
	for si := range slots {
		if f := &slots[si]; (f.kind == event.KindString || f.kind == event.KindIP) && *f.str(e) != "" {
			m.set(si)
		}
	}
	return m
}

// TestMessageRefsRoundTrip checks, on messages assembled from the row's
// values, that the stored form reads back byte for byte, is the one
// FORMAT.md's rule gives (scanMessage), and is no longer than the message
// plus one byte per NUL.
func TestMessageRefsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ev := drawMessageRow(t)
		// Past 64 sources the writer searches otherwise, and past 127
		// refs a ref cannot be referred to.
		for range rapid.IntRange(0, 140).Draw(t, "more refs") {
			ev.Kibana.SavedObjects = append(ev.Kibana.SavedObjects, event.SavedObject{Type: "alert",
				ID: rapid.SampledFrom([]string{"padding-id-1", "padding-id-22", "9a0a3de3-2aa2"}).Draw(t, "more id")})
		}
		if len(ev.Kibana.SavedObjects) > 0 && rapid.Bool().Draw(t, "last ref named") {
			ev.Message += ev.Kibana.SavedObjects[len(ev.Kibana.SavedObjects)-1].ID
		}
		m := rowMask(ev)
		var src messageSources
		// The sources of another row first, which must leave nothing.
		other := drawMessageRow(t)
		om := rowMask(other)
		src.reset(other, &om)
		src.reset(ev, &m)
		// Staged as a block stage does, after a value already kept,
		// which must stay as it was.
		var c colStage
		before := rapid.String().Draw(t, "before")
		kept := c.keep(before)
		stored := c.keepMessage(ev.Message, &src)
		if kept != before {
			t.Fatalf("a value kept before changed: %q, want %q", kept, before)
		}
		var b strings.Builder
		if err := writeMessage(&b, stored, &messageRow{own: ev, aside: new([256]bool)}); err != nil {
			t.Fatalf("decode %q: %v", stored, err)
		}
		if b.String() != ev.Message {
			t.Fatalf("round trip: %q -> %q -> %q", ev.Message, stored, b.String())
		}
		if want := scanMessage(ev); stored != want {
			t.Fatalf("stored form %q, the rule of FORMAT.md gives %q", stored, want)
		}
		if max := len(ev.Message) + strings.Count(ev.Message, "\x00"); len(stored) > max {
			t.Fatalf("stored form %d bytes, more than %d: %q", len(stored), max, stored)
		}
	})
}

// scanMessage is FORMAT.md's rule as written, byte by byte, from the
// field table rather than the writer's slots: the model the writer's
// search must agree with.
func scanMessage(ev *event.Event) string {
	type source struct {
		v string
		k byte
	}
	var srcs []source
	for k, r := range ev.Kibana.SavedObjects {
		if k < 127 && len(r.ID) >= 8 && !strings.Contains(r.ID, "\x00") {
			srcs = append(srcs, source{r.ID, byte(k + 1)})
		}
	}
	for _, f := range event.Fields() {
		if f.Kind != event.KindString && f.Kind != event.KindIP || f.Name == "message" || f.ID >= 128 {
			continue
		}
		if v := *f.Str(ev); len(v) >= 3 && !strings.Contains(v, "\x00") {
			srcs = append(srcs, source{v, byte(0x80 + int(f.ID))})
		}
	}
	msg := ev.Message
	var b strings.Builder
	for i := 0; i < len(msg); {
		if msg[i] == 0 {
			b.WriteString("\x00\x00")
			i++
			continue
		}
		best := -1
		for j, s := range srcs {
			if strings.HasPrefix(msg[i:], s.v) && (best < 0 || len(s.v) > len(srcs[best].v) ||
				len(s.v) == len(srcs[best].v) && s.k < srcs[best].k) {
				best = j
			}
		}
		if best >= 0 {
			b.WriteByte(0)
			b.WriteByte(srcs[best].k)
			i += len(srcs[best].v)
			continue
		}
		b.WriteByte(msg[i])
		i++
	}
	return b.String()
}

// TestMessageRefsStoredForm checks the stored form of hand-made messages
// against forms worked out by hand from FORMAT.md's table.
func TestMessageRefsStoredForm(t *testing.T) {
	ev := &event.Event{}
	ev.Kibana.SavedObjects = []event.SavedObject{{ID: "9a0a3de3-2aa2-4914-b84d-fef884dadc2f"}, {ID: "c-9"}}
	ev.Rule.ID = "9a0a3de3-2aa2-4914-b84d-fef884dadc2f" // field 41, equal to ref 0: the ref's code is lower
	ev.Rule.Name = "cpu high"                           // field 43
	ev.User.Name = "elastic"                            // field 48
	ev.Kibana.Alerting.InstanceID = "host-1"            // field 60
	ev.Kibana.Alerting.ActionGroupID = "host-12"        // field 61, longer at the same byte
	ev.Error.Code = "ok"                                // field 6, too short
	ev.Source.IP = "10.0.0.1"                           // field 80, an IP field
	for _, c := range []struct{ msg, want string }{
		{"", ""},
		{"no values here", "no values here"},
		{"rule 9a0a3de3-2aa2-4914-b84d-fef884dadc2f: 'cpu high'", "rule \x00\x01: '\x00\xab'"},
		{"user [elastic] from 10.0.0.1 ok", "user [\x00\xb0] from \x00\xd0 ok"},
		{"host-12 host-1 host-1x", "\x00\xbd \x00\xbc \x00\xbcx"},
		{"c-9 nul:\x00 \x00\x80élastic", "c-9 nul:\x00\x00 \x00\x00\x80élastic"},
		{"elasticelastic", "\x00\xb0\x00\xb0"},
	} {
		m := rowMask(ev)
		var src messageSources
		src.reset(ev, &m)
		if got := string(appendMessage(nil, c.msg, &src)); got != c.want {
			t.Errorf("stored form of %q = %q, want %q", c.msg, got, c.want)
		}
	}
}

// TestMessageRefsManySources checks the stored form of a row of more
// sources than the writer's fast search holds (64), and refs past the
// 127th, which a message cannot refer to.
func TestMessageRefsManySources(t *testing.T) {
	ev := &event.Event{User: event.User{Name: "elastic"}}
	for i := range 130 {
		ev.Kibana.SavedObjects = append(ev.Kibana.SavedObjects, event.SavedObject{ID: fmt.Sprintf("ref-id-%03d", i)})
	}
	ev.Message = "x ref-id-099 ref-id-005 ref-id-128 elastic"
	m := rowMask(ev)
	var src messageSources
	src.reset(ev, &m)
	if got, want := string(appendMessage(nil, ev.Message, &src)), "x \x00\x64 \x00\x06 ref-id-128 \x00\xb0"; got != want {
		t.Errorf("stored form = %q, want %q", got, want)
	}
}

// TestMessageRefsRejectsBadForms checks that a stored message whose
// escape is cut short or refers to a ref or field the row does not have,
// or could not have referred to, is an error, not a guess.
func TestMessageRefsRejectsBadForms(t *testing.T) {
	ev := &event.Event{}
	ev.Kibana.SavedObjects = []event.SavedObject{{ID: "0123456789"}, {ID: "short"}}
	ev.User.Name = "elastic"
	ev.Error.Code = "ok"
	ev.Tags = event.Strings("a-tag")
	row := &messageRow{own: ev, aside: new([256]bool)}
	for _, s := range []string{
		"x\x00",    // cut short
		"\x00\x03", // ref 2 of 2
		"\x00\x02", // ref 1, too short to refer to
		"\x00\xb1", // user.id (49), absent
		"\x00\x86", // error.code (6), too short
		"\x00\x83", // tags (3), a list
		"\x00\x82", // message itself
		"\x00\x80", // field 0: no field
		"\x00\xff", // field 127: no field
	} {
		var b strings.Builder
		if err := writeMessage(&b, s, row); err == nil {
			t.Errorf("decode %q = %q, want an error", s, b.String())
		}
	}
	var b strings.Builder
	if err := writeMessage(&b, "a\x00\x01b\x00\x00[\x00\xb0]", row); err != nil || b.String() != "a0123456789b\x00[elastic]" {
		t.Errorf("decode = %q, %v", b.String(), err)
	}
}

// TestMessageRefsThroughSegment writes rows whose messages repeat their
// values as version 8 and version 9 and checks that both give every row
// back whole, and the messages alone when only the message is read
// (the values they refer to decoded aside, not added to the events), and
// verify clean.
func TestMessageRefsThroughSegment(t *testing.T) {
	dir := t.TempDir()
	msgOnly := []*event.Field{event.FieldByName("message")}
	rapid.Check(t, func(t *rapid.T) {
		rows := drawMessageRows(t, 30)
		n := len(rows)
		blockRows := rapid.IntRange(1, 16).Draw(t, "blockRows")
		for _, version := range []int{8, 9} {
			r := writeOpen(t, dir, rows, WriteOptions{BlockRows: blockRows, Version: version})
			evs, err := r.Events(allRows(n))
			if err != nil {
				t.Fatalf("v%d: %v", version, err)
			}
			for i := range evs {
				if got, want := jsonOf(&evs[i]), jsonOf(rows[i].Event); got != want {
					t.Fatalf("v%d row %d: %s, want %s", version, i, got, want)
				}
			}
			for bi, b := range r.Blocks() {
				want := make([]int, b.Rows)
				out := make([]*event.Event, b.Rows)
				for i := range want {
					want[i], out[i] = i, &event.Event{}
				}
				if err := r.Decode(bi, want, msgOnly, out); err != nil {
					t.Fatal(err)
				}
				for i, ev := range out {
					orig := rows[int(b.FirstRow)+i].Event
					if got := jsonOf(ev); got != jsonOf(&event.Event{Message: orig.Message}) {
						t.Fatalf("v%d block %d row %d: message alone read as %s, want message %q", version, bi, i, got, orig.Message)
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

// goldenMessageRowsJSON are the rows version 9 adds (sequence 200 on,
// after the last in time): messages repeating the row's rule name,
// instance, action group, user name, server uuid and source IP (each
// stored as a field reference), its ref id (a ref reference), a NUL, a
// byte 0x80 and non-ASCII text, a value too short to be referred to, and
// a message that repeats nothing.
var goldenMessageRowsJSON = []string{
	`{"@timestamp":"2019-12-10T10:00:00Z","message":"alert: .index-threshold:9a0a3de3-2aa2-4914-b84d-fef884dadc2f: 'cpu high eu-17' instanceId: 'host-7' scheduled actionGroup: 'threshold met'","rule":{"id":"9a0a3de3-2aa2-4914-b84d-fef884dadc2f","name":"cpu high eu-17"},"kibana":{"alerting":{"instance_id":"host-7","action_group_id":"threshold met"},"alert":{"rule":{"rule_type_id":".index-threshold"}},"saved_objects":[{"rel":"primary","type":"alert","id":"9a0a3de3-2aa2-4914-b84d-fef884dadc2f","type_id":".index-threshold"}]}}`,
	`{"@timestamp":"2019-12-10T10:00:01Z","message":"user [élodie] logged in from 10.0.0.7 \u0000 \u0080 ok","user":{"name":"élodie"},"source":{"ip":"10.0.0.7"},"event":{"outcome":"ok"}}`,
	`{"@timestamp":"2019-12-10T10:00:02Z","message":"eventLog starting on kibana 5b2de169-2785-441b-ae8c-186a1936b17d","kibana":{"server_uuid":"5b2de169-2785-441b-ae8c-186a1936b17d"}}`,
	`{"@timestamp":"2019-12-10T10:00:03Z","message":"nothing of the row here","user":{"name":"elastic"}}`,
}

// goldenRowsV9 are goldenRowsV8 with the rows of goldenMessageRowsJSON.
func goldenRowsV9(t testing.TB) []Row {
	t.Helper()
	rows := goldenRowsV8(t)
	for i, s := range goldenMessageRowsJSON {
		ev, err := event.Decode([]byte(s), event.DefaultLimits())
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		rows = append(rows, Row{Seq: uint64(200 + i), Event: &ev})
	}
	return rows
}

// TestGoldenV8 checks that a writer asked for version 8 still writes
// exactly the released version 8 fixture.
func TestGoldenV8(t *testing.T) { checkOldWriter(t, 8, goldenRowsV8(t)) }

// TestReadV9 opens the fixture of format version 9: every row comes back
// byte for byte (openFixture), the messages alone too, and its message
// column is smaller than the same rows' as version 8.
func TestReadV9(t *testing.T) {
	rows := goldenRowsV9(t)
	r := openFixture(t, "testdata/golden-v9.seg", rows)
	if info := r.Info(); info.Version != 9 {
		t.Errorf("Info = %+v", info)
	}
	b := r.Blocks()[len(r.Blocks())-1]
	want := make([]int, b.Rows)
	out := make([]*event.Event, b.Rows)
	for i := range want {
		want[i], out[i] = i, &event.Event{}
	}
	if err := r.Decode(len(r.Blocks())-1, want, []*event.Field{event.FieldByName("message")}, out); err != nil {
		t.Fatal(err)
	}
	for i, ev := range out {
		if orig := rows[int(b.FirstRow)+i].Event; ev.Message != orig.Message || ev.User.Name != "" || ev.Kibana.SavedObjects != nil {
			t.Errorf("row %d: message alone read as %s, want %q", i, jsonOf(ev), orig.Message)
		}
	}
	v8 := filepath.Join(t.TempDir(), "v8.seg")
	if _, err := Write(v8, rows, WriteOptions{BlockRows: 3, Version: 8}); err != nil {
		t.Fatal(err)
	}
	got8, _ := os.Stat(v8)
	got9, _ := os.Stat("testdata/golden-v9.seg")
	if got9.Size() >= got8.Size() {
		t.Errorf("version 9 file %d bytes, version 8 %d: the field references saved nothing", got9.Size(), got8.Size())
	}
}

// FuzzMessageRefs decodes arbitrary stored messages against a row with
// refs and fields (an error, never a panic), and checks that an arbitrary
// message, with row values made from its own pieces, reads back from its
// stored form byte for byte, both searches storing the same form.
func FuzzMessageRefs(f *testing.F) {
	f.Add([]byte("a\x00\x01b\x00\x00[\x00\xb0]\x00\xab\x00"), "user [elastic] ran cpu", uint8(6), uint8(4))
	f.Add([]byte("\x00\x80\x00\xff\x00\x7f\x00\x02"), "\x00\x00é\x80host-1 host-12", uint8(0), uint8(7))
	f.Add([]byte{}, "", uint8(0), uint8(0))
	ev := &event.Event{}
	ev.Kibana.SavedObjects = []event.SavedObject{{ID: "0123456789"}, {ID: "short"}}
	ev.User.Name, ev.Rule.Name, ev.Error.Code = "elastic", "cpu high", "ok"
	f.Fuzz(func(t *testing.T, stored []byte, msg string, cut, span uint8) {
		var b strings.Builder
		_ = writeMessage(&b, string(stored), &messageRow{own: ev, aside: new([256]bool)})
		row := &event.Event{Message: msg}
		from := min(int(cut), len(msg))
		row.User.Name = msg[from:min(from+int(span), len(msg))]
		row.Rule.Name = msg[:min(int(span), len(msg))]
		row.Kibana.SavedObjects = []event.SavedObject{{ID: msg[len(msg)/2:]}}
		m := rowMask(row)
		var src messageSources
		src.reset(row, &m)
		s := appendMessage(nil, msg, &src)
		if slow := appendMessageSlow(nil, msg, &src); string(slow) != string(s) {
			t.Fatalf("message %q stored as %q by the pair search, %q by strings.Index", msg, s, slow)
		}
		b.Reset()
		if err := writeMessage(&b, string(s), &messageRow{own: row, aside: new([256]bool)}); err != nil || b.String() != msg {
			t.Fatalf("round trip of %q: stored %q, read %q, %v", msg, s, b.String(), err)
		}
	})
}
