package segment

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
)

// goldenRefKeysJSON is the row version 5 adds (sequence 17, last in time,
// alone in its block): a ref whose key it shares with row 0's ref though
// its namespace is "default" where row 0 has none, a ref whose rel is
// neither primary nor absent, and row 5's non-primary ref again (a key
// used again in a later block).
const goldenRefKeysJSON = `{"@timestamp":"2019-12-10T06:00:00Z","event":{"provider":"alerting","action":"execute"},"kibana":{"saved_objects":[{"rel":"primary","namespace":"default","type":"alert","id":"a-1"},{"rel":"parent","namespace":"s2","type":"action","id":"c-1","type_id":".email"},{"type":"action","id":"c-9"}]}}`

// goldenRowsV5 are goldenRowsV4 with the row whose refs share keys.
func goldenRowsV5(t testing.TB) []Row {
	t.Helper()
	ev, err := event.Decode([]byte(goldenRefKeysJSON), event.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return append(goldenRowsV4(t), Row{Seq: 17, Event: &ev})
}

// goldenV5Path is the fixture of version 5, the first with a key table.
const goldenV5Path = "testdata/golden-v5.seg"

// goldenRefKeys returns the key table of the version 5 fixture.
func goldenRefKeys(t testing.TB) *refKeys {
	t.Helper()
	r, err := Open(goldenV5Path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r.refKeys
}

// TestReadV5 opens the fixture of format version 5: every row comes back
// byte for byte (openFixture), refs included, though the refs column holds
// key numbers; a key two rows share, with namespaces "" and "default", is
// one postings term; and the key table numbers keys in the order rows first
// use them.
func TestReadV5(t *testing.T) {
	r := openFixture(t, goldenV5Path, goldenRowsV5(t))
	if info := r.Info(); info.Version != 5 || r.Layout() < index.LayoutV4 {
		t.Errorf("Info = %+v, Layout %d", info, r.Layout())
	}
	shared := index.RefKey("a-1", "alert", "default", true)
	checkPostings(t, r, []postingCase{
		{index.Term{Field: index.RefField, Value: shared}, []uint32{0, 6}},
		{index.Term{Field: index.RefField, Value: index.RefKey("c-9", "action", "default", false)}, []uint32{5, 6}},
		{index.Term{Field: index.RefRelField, Value: "parent"}, []uint32{6}},
	})
	// Row order of first use: a-1 (row 0), c-1 primary (row 1),
	// 9a0a3de3 (row 5), c-9 (row 5), c-1 parent (row 6).
	want := []string{
		shared,
		index.RefKey("c-1", "action", "s2", true),
		index.RefKey("9a0a3de3-2aa2-4914-b84d-fef884dadc2f", "alert", "default", true),
		index.RefKey("c-9", "action", "default", false),
		index.RefKey("c-1", "action", "s2", false),
	}
	post, err := r.postings()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rank := range r.ranks {
		v, _ := post.FieldTerm(index.RefField, int(rank))
		got = append(got, v)
	}
	if !slices.Equal(got, want) {
		t.Errorf("key table resolves to %q, want %q", got, want)
	}
}

// refsModel draws rows whose refs come from small pools, so that keys
// repeat within and across blocks and differ only by namespace ("" or
// "default") or rel.
func refsModel(t *rapid.T) []Row {
	n := rapid.IntRange(1, 60).Draw(t, "rows")
	rows := make([]Row, n)
	base, _ := event.ParseDate("2024-05-01T00:00:00.000Z")
	for i := range rows {
		d, _ := event.DateFromParts(base.UnixNano()+int64(i)*1e6, base.Format())
		ev := &event.Event{Timestamp: d}
		ev.Event.Provider = "alerting"
		for range rapid.IntRange(0, 4).Draw(t, "refs") {
			ev.Kibana.SavedObjects = append(ev.Kibana.SavedObjects, event.SavedObject{
				ID:        rapid.SampledFrom([]string{"a-1", "b-2", "9a0a3de3-2aa2-4914-b84d-fef884dadc2f", "x\x00y"}).Draw(t, "id"),
				Type:      rapid.SampledFrom([]string{"alert", "action"}).Draw(t, "type"),
				Namespace: rapid.SampledFrom([]string{"", "default", "s2"}).Draw(t, "namespace"),
				Rel:       rapid.SampledFrom([]string{"", "primary", "parent"}).Draw(t, "rel"),
				TypeID:    rapid.SampledFrom([]string{"", ".index-threshold"}).Draw(t, "type_id"),
			})
		}
		rows[i] = Row{Seq: uint64(i + 1), Event: ev}
	}
	return rows
}

// TestRefKeysRoundTrip writes random rows as version 5 with small blocks
// and checks against the rows themselves (the model) that every row's
// refs read back exactly, whole or by single rows decoding only the refs
// column, that Salvage of the intact file returns them too, and that the
// key table holds one key per distinct (id, type, space, primary).
func TestRefKeysRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		rows := refsModel(t)
		path := filepath.Join(dir, "refs.seg")
		blockRows := rapid.IntRange(1, 16).Draw(t, "blockRows")
		if _, err := Write(path, rows, WriteOptions{BlockRows: blockRows}); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		evs, err := r.Events(allRows(len(rows)))
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			if !slices.Equal(evs[i].Kibana.SavedObjects, rows[i].Event.Kibana.SavedObjects) {
				t.Fatalf("row %d: refs %+v, want %+v", i, evs[i].Kibana.SavedObjects, rows[i].Event.Kibana.SavedObjects)
			}
		}
		row := rapid.IntRange(0, len(rows)-1).Draw(t, "row")
		bi := r.blockOf(uint32(row))
		ev := &event.Event{}
		refsField := []*event.Field{event.FieldByName("kibana.saved_objects")}
		if err := r.Decode(bi, []int{row - int(r.blocks[bi].FirstRow)}, refsField, []*event.Event{ev}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ev.Kibana.SavedObjects, rows[row].Event.Kibana.SavedObjects) {
			t.Fatalf("Decode row %d: refs %+v, want %+v", row, ev.Kibana.SavedObjects, rows[row].Event.Kibana.SavedObjects)
		}
		keys := map[string]bool{}
		for _, row := range rows {
			for _, so := range row.Event.Kibana.SavedObjects {
				keys[index.RefKey(so.ID, so.Type, so.Space(), so.Primary())] = true
			}
		}
		if len(r.ranks) != len(keys) {
			t.Fatalf("key table has %d keys, the rows %d", len(r.ranks), len(keys))
		}
		res, err := Salvage(path, nil)
		if err != nil || !res.Complete || len(res.Rows) != len(rows) {
			t.Fatalf("Salvage: %d rows, complete %v, %v", len(res.Rows), res.Complete, err)
		}
		for i, sr := range res.Rows {
			if jsonOf(sr.Event) != jsonOf(rows[i].Event) {
				t.Fatalf("salvaged row %d: %s, want %s", i, jsonOf(sr.Event), jsonOf(rows[i].Event))
			}
		}
	})
}

// refsColumn builds a version 5 refs column by hand: every row present,
// one ref per row with the given rel, namespace and key code (0: the next
// new key, from base on; c: key c-1).
func refsColumn(refs [][3]string, base uint64, codes []uint64) []byte {
	b := binary.AppendUvarint(nil, 0) // every row present
	for range refs {
		b = binary.AppendUvarint(b, 1)
	}
	for part := range 3 {
		b = binary.AppendUvarint(b, 0) // plain string vector
		b = binary.AppendUvarint(b, uint64(len(refs)))
		for _, r := range refs {
			b = binary.AppendUvarint(b, uint64(len(r[part])))
		}
		for _, r := range refs {
			b = append(b, r[part]...)
		}
	}
	b = binary.AppendUvarint(b, base)
	for _, n := range codes {
		b = binary.AppendUvarint(b, n)
	}
	return b
}

// TestRefKeysColumnDamage checks that a refs column whose key numbers or
// parts disagree with the key table is an error naming the problem, never
// a panic or a wrong ref: the golden file's key 0 is a-1, alert, default,
// primary, and key 3 is c-9, action, default, not primary (a block whose
// earlier blocks used keys 0 to 2 gives its first new key number 3).
func TestRefKeysColumnDamage(t *testing.T) {
	keys := goldenRefKeys(t)
	f := event.FieldByName("kibana.saved_objects")
	primary := [3]string{"primary", "", ""}
	cases := map[string]struct {
		refs  [][3]string
		base  uint64
		codes []uint64
		keys  *refKeys
		want  string
	}{
		"number past the table":     {[][3]string{primary}, 5, []uint64{0}, keys, "ref key 5 of 5"},
		"key used before first use": {[][3]string{primary}, 0, []uint64{2}, keys, "before its first use"},
		"namespace disagrees":       {[][3]string{{"primary", "s2", ""}}, 0, []uint64{0}, keys, "disagrees"},
		"rel disagrees":             {[][3]string{{"parent", "", ""}}, 0, []uint64{0}, keys, "disagrees"},
		"numbers cut short":         {[][3]string{primary, primary}, 0, []uint64{0}, keys, "exceed the bytes left"},
		"no key table":              {[][3]string{primary}, 0, []uint64{0}, unresolvedRefKeys(errors.New("block index unreadable")), "block index unreadable"},
	}
	for name, c := range cases {
		evs := make([]event.Event, len(c.refs))
		err := decodeFieldColumn(refsColumn(c.refs, c.base, c.codes), f, evs, uint32(len(evs)), c.keys, true)
		if err == nil || !errors.Is(err, errInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an invalid-data error saying %q", name, err, c.want)
		}
	}
	evs := make([]event.Event, 1)
	if err := decodeFieldColumn(refsColumn([][3]string{{"", "default", ".x"}}, 3, []uint64{0}), f, evs, 1, keys, true); err != nil {
		t.Fatal(err)
	}
	want := []event.SavedObject{{Namespace: "default", ID: "c-9", Type: "action", TypeID: ".x"}}
	if !slices.Equal(evs[0].Kibana.SavedObjects, want) {
		t.Errorf("good column: %+v, want %+v", evs[0].Kibana.SavedObjects, want)
	}
}

// TestRefKeyTableDamage rewrites the key table of a version 5 file (and the
// block index CRC, so only the structure is wrong): a repeated rank, a
// rank past the table and a table shorter than the postings' ref terms
// are corruption that Open (or, for the last, whose check needs the
// dictionary, the first read that loads it) reports, naming the section.
func TestRefKeyTableDamage(t *testing.T) {
	golden, err := os.ReadFile(goldenV5Path)
	if err != nil {
		t.Fatal(err)
	}
	ft := decodeFooter(golden[len(golden)-footerLen:])
	bi := golden[ft.BlockIndex.Off : ft.BlockIndex.Off+ft.BlockIndex.Len]
	tableAt := len(bi) - len(appendRefKeyTable(nil, []uint32{0, 1, 2, 3, 4}))
	cases := map[string]struct {
		table   []byte
		section string
	}{
		"repeated rank":   {appendRefKeyTable(nil, []uint32{0, 1, 2, 3, 3}), SectionBlockIndex},
		"rank past table": {appendRefKeyTable(nil, []uint32{0, 1, 2, 3, 9}), SectionBlockIndex},
		// Four keys, one rank written in two bytes (0x80 0x00, a longer
		// uvarint of 0), so the section keeps its length.
		"fewer than terms":                {withTrailer([]byte{4, 0x80, 0x00, 1, 2, 3}), SectionPostings},
		"trailer crc wrong":               {flip(appendRefKeyTable(nil, []uint32{0, 1, 2, 3, 4}), 9), SectionBlockIndex},
		"trailer length past the section": {append([]byte{5, 0, 1, 2, 3, 4}, 0xff, 0xff, 0, 0, 0, 0, 0, 0), SectionBlockIndex},
	}
	for name, c := range cases {
		newBI := append(slices.Clone(bi[:tableAt]), c.table...)
		if len(newBI) != len(bi) {
			t.Fatalf("%s: table of %d bytes, the fixture's has %d", name, len(c.table), len(bi)-tableAt)
		}
		file := slices.Clone(golden)
		copy(file[ft.BlockIndex.Off:], newBI)
		f := decodeFooter(file[len(file)-footerLen:])
		f.BlockIndex.CRC = crc(newBI)
		copy(file[len(file)-footerLen:], f.appendTo(nil))
		path := filepath.Join(t.TempDir(), "bad.seg")
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path, OpenOptions{})
		if err == nil {
			// The key table is checked against the dictionary when a
			// read loads it, not at Open: Verify loads it.
			err = r.Verify()
			r.Close()
		}
		var ce *CorruptionError
		if !errors.As(err, &ce) || ce.Section != c.section {
			t.Errorf("%s: Open and Verify = %v, want corruption of the %s", name, err, c.section)
		}
	}
}

// withTrailer appends a key table's trailer (length, CRC-32C) to table.
func withTrailer(table []byte) []byte {
	b := binary.LittleEndian.AppendUint32(slices.Clone(table), uint32(len(table)))
	return binary.LittleEndian.AppendUint32(b, crc(table))
}

// TestSalvageV5LostPostings damages the postings of a version 5 file: the
// refs cannot be resolved, so Salvage loses the blocks holding refs (with
// an error saying why) and still returns the blocks without (the golden
// rows in blocks of 2: rows 2 and 3 hold no refs).
func TestSalvageV5LostPostings(t *testing.T) {
	const per = 2
	rows := goldenRowsV5(t)
	path := filepath.Join(t.TempDir(), "bad.seg")
	if _, err := Write(path, rows, WriteOptions{BlockRows: per}); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ft := decodeFooter(good[len(good)-footerLen:])
	if err := os.WriteFile(path, flip(good, int(ft.Postings.Off+ft.Postings.Len/2)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Salvage(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wantRows []string
	for _, b := range res.Blocks {
		hasRefs := false
		for i := b.Index * per; i < min(b.Index*per+per, len(rows)); i++ {
			hasRefs = hasRefs || len(rows[i].Event.Kibana.SavedObjects) > 0
		}
		switch {
		case hasRefs && (b.Err == nil || !strings.Contains(b.Err.Error(), "postings")):
			t.Errorf("block %d holds refs but was salvaged or lost for another reason: %v", b.Index, b.Err)
		case !hasRefs && b.Err != nil:
			t.Errorf("block %d holds no refs but was lost: %v", b.Index, b.Err)
		case !hasRefs:
			for i := b.Index * per; i < min(b.Index*per+per, len(rows)); i++ {
				wantRows = append(wantRows, jsonOf(rows[i].Event))
			}
		}
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, jsonOf(r.Event))
	}
	if len(wantRows) == 0 || !slices.Equal(got, wantRows) {
		t.Errorf("salvaged rows %q, want %q", got, wantRows)
	}
}

// TestSalvageV5 damages a version 5 file whose every row has a ref: with
// the footer, key table and postings intact the blocks come back as in
// version 4, even when the block index entries are damaged (the table's
// own trailer checks it); when any of the three is lost, every block is
// lost, each with an error naming why.
func TestSalvageV5(t *testing.T) {
	path, orig, blocks, rows := salvageFixtureVersion(t, 5)
	ft := decodeFooter(orig[len(orig)-footerLen:])
	bi := int(ft.BlockIndex.Off)
	entry2 := entryOffset(t, orig[bi:bi+int(ft.BlockIndex.Len)], 2) + bi
	cases := map[string]struct {
		damage func(b []byte) []byte
		rows   int
		why    string // in every lost block's error when rows is 0
	}{
		"healthy":            {func(b []byte) []byte { return b }, 40, ""},
		"block 2":            {func(b []byte) []byte { return flip(b, int(blocks[2].Off+3)) }, 32, ""},
		"index entry zeroed": {func(b []byte) []byte { clear(b[entry2 : entry2+12]); return b }, 32, ""},
		"postings":           {func(b []byte) []byte { return flip(b, int(ft.Postings.Off+5)) }, 0, "postings"},
		"key table":          {func(b []byte) []byte { return flip(b, int(ft.BlockIndex.Off+ft.BlockIndex.Len-2)) }, 0, "ref key table"},
		"footer zeroed":      {func(b []byte) []byte { clear(b[len(b)-footerLen:]); return b }, 0, "block index unreadable"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, c.damage(slices.Clone(orig)), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Salvage(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != c.rows {
				t.Fatalf("%d rows (%v), want %d", len(res.Rows), res.IndexErr, c.rows)
			}
			checkSalvagedRows(t, res.Rows, rows)
			if c.rows > 0 {
				return
			}
			for _, b := range res.Lost() {
				if b.Rows > 0 && !strings.Contains(b.Err.Error(), c.why) {
					t.Errorf("lost block %d: %v, want it to say %q", b.Index, b.Err, c.why)
				}
			}
		})
	}
}

// TestRefKeyWriterModel: refKeyWriter.number against a map of whole keys
// (index.AppendRefKey): each distinct key gets the next number at its
// first use and the same number after, refs of one id with other types,
// spaces (an absent namespace is "default") or rels getting keys of their
// own; keys holds each number's key. Long ids fill several of the
// chunks the keys are copied into, one id longer than a chunk.
func TestRefKeyWriterModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := newRefKeyWriter()
		model := map[string]uint64{}
		var keys []string
		long := rapid.StringOfN(rapid.RuneFrom([]rune{'a', 'b'}), 0, 4000, -1)
		huge := strings.Repeat("h", refKeySlab+1)
		for range rapid.IntRange(1, 200).Draw(t, "refs") {
			id := rapid.OneOf(rapid.SampledFrom([]string{"a", "b", "0f6e3c1a-2b4d-4e5f-8a9b-0c1d2e3f4a5b", "", huge}), long).Draw(t, "id")
			typ := rapid.SampledFrom([]string{"alert", "action", ""}).Draw(t, "type")
			ns := rapid.SampledFrom([]string{"", "default", "ops"}).Draw(t, "namespace")
			rel := rapid.SampledFrom([]string{"", event.RelPrimary, "other"}).Draw(t, "rel")
			r := event.SavedObject{ID: id, Type: typ, Namespace: ns, Rel: rel}
			key := string(index.AppendRefKey(nil, id, typ, r.Space(), r.Primary()))
			want, seen := model[key]
			if !seen {
				want = uint64(len(keys))
				model[key] = want
				keys = append(keys, key)
			}
			n, isNew := w.number(id, typ, ns, rel)
			if n != want || isNew == seen {
				t.Fatalf("number(%q, %q, %q, %q) = %d, %v; want %d, %v", id, typ, ns, rel, n, isNew, want, !seen)
			}
		}
		if !slices.Equal(w.keys, keys) {
			t.Fatalf("keys %q, want %q", w.keys, keys)
		}
	})
}
