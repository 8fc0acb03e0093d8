package segment

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
)

var update = flag.Bool("update", false, "regenerate the golden file of the current version")

// goldenPath is the fixture of the version this package writes; the
// fixtures of older versions (golden-v1.seg to golden-v8.seg) are never
// regenerated.
const goldenPath = "testdata/golden-v9.seg"

// goldenJSON are the events of the golden segment, in (@timestamp, seq)
// order; row i has sequence number goldenSeq[i].
var goldenJSON = []string{
	`{"@timestamp":"2019-12-09T21:16:43.425Z","message":"alert executed","event":{"provider":"alerting","action":"execute","outcome":"success","duration":"1500000","start":"2019-12-09T21:16:43.1+01:00"},"log":{"level":"info"},"kibana":{"server_uuid":"5b2de169-2785-441b-ae8c-186a1936b17d","saved_objects":[{"rel":"primary","type":"alert","id":"a-1","type_id":".index-threshold"}]},"tags":"t1"}`,
	`{"@timestamp":"2019-12-09T21:16:43.425Z","message":"action executed","event":{"provider":"actions","action":"execute","outcome":"failure","duration":2000000,"risk_score":1.5},"error":{"message":"boom"},"log":{"level":"error"},"kibana":{"space_ids":["default","s2"],"saved_objects":[{"rel":"primary","namespace":"s2","type":"action","id":"c-1"}]},"labels":{"a":"1","b":"x"}}`,
	`{"@timestamp":"2019-12-09T22:00:00-05:30","event":{"provider":"alerting","action":"new-instance","severity":3},"kibana":{"alerting":{"instance_id":"i-1"},"task":{"schedule_delay":12}},"user":{"name":"elastic","roles":["superuser"]},"source":{"ip":"10.0.0.1"},"http":{"response":{"status_code":200}}}`,
	`{"@timestamp":"2019-12-10T03:30:00.000000001Z","event":{"provider":"eventLog","action":"starting"},"tags":["a","b"]}`,
}

var goldenSeq = []uint64{10, 11, 9, 14}

func goldenRows(t testing.TB) []Row {
	t.Helper()
	rows := make([]Row, len(goldenJSON))
	for i, s := range goldenJSON {
		ev, err := event.Decode([]byte(s), event.DefaultLimits())
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		rows[i] = Row{Seq: goldenSeq[i], Event: &ev}
	}
	return rows
}

// goldenExtraJSON is the row version 3 adds to the golden events (sequence
// 15, last in time): kept unknown fields at the top level and inside a
// known object, with every kind of value.
const goldenExtraJSON = `{"@timestamp":"2019-12-10T04:00:00Z","event":{"provider":"syslog","action":"line","module_v":"x"},"host":{"name":"h1","architecture":"x86_64"},"process":{"pid":4242,"args":["-v",1.50,true,null],"big":123456789012345678901,"env":{}},"syslog":{"facility":"local0","severity":-3}}`

// goldenRowsV3 are goldenRows with what version 3 adds: the engine
// fields (a client id on rows 0 and 2, an _index on rows 0 and 1) and the
// row with kept unknown fields.
func goldenRowsV3(t testing.TB) []Row {
	t.Helper()
	rows := goldenRows(t)
	rows[0].Event.ClientID, rows[0].Event.Index = "doc-1", "logs-kibana"
	rows[1].Event.Index = "logs-kibana"
	rows[2].Event.ClientID = "doc-2"
	ev, err := event.DecodeWith([]byte(goldenExtraJSON), event.DecodeOptions{KeepUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	return append(rows, Row{Seq: 15, Event: &ev})
}

// goldenMessageJSON is the row version 4 adds (sequence 16, last in
// time): a message naming its first ref's id twice, holding a NUL, and
// naming its second ref, whose id is too short to be stored as a
// reference; a rule.id equal to the first ref's id.
const goldenMessageJSON = `{"@timestamp":"2019-12-10T05:00:00Z","message":"alert executed: .index-threshold:9a0a3de3-2aa2-4914-b84d-fef884dadc2f: 'cpu' (9a0a3de3-2aa2-4914-b84d-fef884dadc2f) nul:\u0000 via c-9","event":{"provider":"alerting","action":"execute"},"rule":{"id":"9a0a3de3-2aa2-4914-b84d-fef884dadc2f"},"kibana":{"saved_objects":[{"rel":"primary","type":"alert","id":"9a0a3de3-2aa2-4914-b84d-fef884dadc2f","type_id":".index-threshold"},{"type":"action","id":"c-9"}]}}`

// goldenRowsV4 are goldenRowsV3 with the row whose message refers to its
// refs.
func goldenRowsV4(t testing.TB) []Row {
	t.Helper()
	ev, err := event.Decode([]byte(goldenMessageJSON), event.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return append(goldenRowsV3(t), Row{Seq: 16, Event: &ev})
}

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "golden.seg")
	if _, err := Write(path, goldenRowsV9(t), WriteOptions{BlockRows: 3}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *update || os.Getenv("EVENTLOG_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("segment bytes changed: if intended, bump/record the format in FORMAT.md and regenerate with "+
			"`go test ./segment -run TestGolden -update` (or EVENTLOG_UPDATE_GOLDEN=1); %d bytes, golden %d", len(got), len(want))
	}
}

// TestGoldenV1 checks that a writer asked for version 1 (tests of the
// readers use it) still writes exactly the released version 1 fixture.
func TestGoldenV1(t *testing.T) { checkOldWriter(t, 1, goldenRows(t)) }

// TestGoldenV2 checks that a writer asked for version 2 still writes
// exactly the version 2 fixture.
func TestGoldenV2(t *testing.T) { checkOldWriter(t, 2, goldenRows(t)) }

// TestGoldenV3 checks that a writer asked for version 3 still writes
// exactly the version 3 fixture.
func TestGoldenV3(t *testing.T) { checkOldWriter(t, 3, goldenRowsV3(t)) }

// TestGoldenV4 checks that a writer asked for version 4 still writes
// exactly the version 4 fixture.
func TestGoldenV4(t *testing.T) { checkOldWriter(t, 4, goldenRowsV4(t)) }

// checkOldWriter writes rows as the given older version and compares the
// bytes with that version's fixture.
func checkOldWriter(t *testing.T, version int, rows []Row) {
	path := filepath.Join(t.TempDir(), "golden.seg")
	if _, err := Write(path, rows, WriteOptions{BlockRows: 3, Version: version}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fixture := fmt.Sprintf("testdata/golden-v%d.seg", version)
	want, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("a version %d file written today differs from %s (%d bytes, golden %d)", version, fixture, len(got), len(want))
	}
}

// openFixture opens a fixture, verifies it and checks its rows against
// want; the reader is closed by the test's cleanup.
func openFixture(t *testing.T, path string, want []Row) *Reader {
	t.Helper()
	r, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	rows := make([]uint32, len(want))
	for i := range rows {
		rows[i] = uint32(i)
	}
	evs, err := r.Events(rows)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if jsonOf(&evs[i]) != jsonOf(want[i].Event) {
			t.Errorf("row %d: %s, want %s", i, jsonOf(&evs[i]), jsonOf(want[i].Event))
		}
	}
	return r
}

// postingCase is a term and the rows a fixture's postings give it.
type postingCase struct {
	term index.Term
	rows []uint32
}

func checkPostings(t *testing.T, r *Reader, cases []postingCase) {
	t.Helper()
	for _, c := range cases {
		bm, err := r.Postings(c.term)
		if err != nil || bm == nil || !slices.Equal(bm.ToArray(), c.rows) {
			t.Errorf("Postings(%s=%q) = %v, %v; want %v", c.term.Field, c.term.Value, bm, err, c.rows)
		}
	}
}

// TestOlderVersionRefusesExtra checks that a writer of a version before
// VersionExtra refuses a row with kept unknown fields rather than drop them.
func TestOlderVersionRefusesExtra(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.seg")
	_, err := Write(path, goldenRowsV3(t)[4:], WriteOptions{Version: 2})
	if err == nil || !strings.Contains(err.Error(), "kept unknown fields") {
		t.Fatalf("Write v2 with kept fields: %v", err)
	}
}

// TestReadV3 opens the fixture of format version 3: the engine fields and
// the kept unknown fields come back (these in place), and "_id" and
// "_index" have postings.
func TestReadV3(t *testing.T) {
	r := openFixture(t, "testdata/golden-v3.seg", goldenRowsV3(t))
	evs, err := r.Events([]uint32{4})
	if err != nil {
		t.Fatal(err)
	}
	const wantExtra = `{"@timestamp":"2019-12-10T04:00:00Z","event":{"action":"line","provider":"syslog","module_v":"x"},"host":{"name":"h1","architecture":"x86_64"},"process":{"pid":4242,"args":["-v",1.50,true,null],"big":123456789012345678901,"env":{}},"syslog":{"facility":"local0","severity":-3}}`
	if got := jsonOf(&evs[0]); got != wantExtra {
		t.Errorf("row 4:\n got %s\nwant %s", got, wantExtra)
	}
	if info := r.Info(); info.Version != 3 || r.Layout() != index.LayoutV3 {
		t.Errorf("Info = %+v, Layout %d", info, r.Layout())
	}
	checkPostings(t, r, []postingCase{
		{index.Term{Field: event.ClientIDField, Value: "doc-1"}, []uint32{0}},
		{index.Term{Field: event.ClientIDField, Value: "doc-2"}, []uint32{2}},
		{index.Term{Field: event.IndexField, Value: "logs-kibana"}, []uint32{0, 1}},
	})
}

// TestReadV4 opens the fixture of format version 4 (version 3's rows and
// one whose message and rule.id name its refs): its client ids, paged out
// of the dictionary (index.LayoutV4), are found by lookup and by prefix
// like the other terms, and an absent id is not; the message and rule.id
// whose ref ids are stored as references come back byte for byte, read
// alone (the refs decoded aside) and with the refs; and the file is smaller
// than the same rows written as version 3.
func TestReadV4(t *testing.T) {
	rows := goldenRowsV4(t)
	r := openFixture(t, "testdata/golden-v4.seg", rows)
	if info := r.Info(); info.Version != 4 || r.Layout() != index.LayoutV4 {
		t.Errorf("Info = %+v, Layout %d", info, r.Layout())
	}
	checkPostings(t, r, []postingCase{
		{index.Term{Field: event.ClientIDField, Value: "doc-1"}, []uint32{0}},
		{index.Term{Field: event.ClientIDField, Value: "doc-2"}, []uint32{2}},
		{index.Term{Field: event.IndexField, Value: "logs-kibana"}, []uint32{0, 1}},
		{index.Term{Field: "event.provider", Value: "alerting"}, []uint32{0, 2, 5}},
	})
	if bm, err := r.Postings(index.Term{Field: event.ClientIDField, Value: "doc-3"}); bm != nil || err != nil {
		t.Errorf("Postings(_id=doc-3) = %v, %v; want none", bm, err)
	}
	var ids []string
	err := r.EachTerm(event.ClientIDField, "doc-", func(v string, _ *roaring.Bitmap) error {
		ids = append(ids, v)
		return nil
	})
	if err != nil || !slices.Equal(ids, []string{"doc-1", "doc-2"}) {
		t.Errorf("EachTerm(_id, doc-) = %v, %v", ids, err)
	}
	if all, err := r.UnionTerms(event.ClientIDField, "", nil); err != nil || !slices.Equal(all.ToArray(), []uint32{0, 2}) {
		t.Errorf("UnionTerms(_id) = %v, %v", all, err)
	}
	msg, ruleID := rows[5].Event.Message, rows[5].Event.Rule.ID
	for _, fields := range [][]*event.Field{
		{event.FieldByName("message"), event.FieldByName("rule.id")},
		{event.FieldByName("message"), event.FieldByName("rule.id"), event.FieldByName("kibana.saved_objects")},
	} {
		ev := &event.Event{}
		bi := len(r.Blocks()) - 1
		if err := r.Decode(bi, []int{int(r.Blocks()[bi].Rows) - 1}, fields, []*event.Event{ev}); err != nil {
			t.Fatal(err)
		}
		if ev.Message != msg || ev.Rule.ID != ruleID {
			t.Errorf("Decode(%d fields): message %q, rule.id %q; want %q, %q", len(fields), ev.Message, ev.Rule.ID, msg, ruleID)
		}
		if len(fields) == 2 && ev.Kibana.SavedObjects != nil {
			t.Errorf("Decode(message) also set the refs: %+v", ev.Kibana.SavedObjects)
		}
	}
	v3 := filepath.Join(t.TempDir(), "v3.seg")
	if _, err := Write(v3, rows, WriteOptions{BlockRows: 3, Version: 3}); err != nil {
		t.Fatal(err)
	}
	got3, _ := os.Stat(v3)
	got4, _ := os.Stat("testdata/golden-v4.seg")
	if got4.Size() >= got3.Size() {
		t.Errorf("version 4 file %d bytes, version 3 %d: the references saved nothing", got4.Size(), got3.Size())
	}
}

// TestReadV1 opens the fixture of released format version 1: every later
// reader must still read it.
func TestReadV1(t *testing.T) {
	r := openFixture(t, "testdata/golden-v1.seg", goldenRows(t))
	if r.Layout() != index.LayoutV1 {
		t.Errorf("Layout = %d, want LayoutV1", r.Layout())
	}
	if info := r.Info(); info.Version != 1 || info.Events != 4 || info.MinSeq != 9 || info.MaxSeq != 14 {
		t.Errorf("Info = %+v", info)
	}
	if bm, err := r.Postings(index.Term{Field: "event.provider", Value: "alerting"}); err != nil || !slices.Equal(bm.ToArray(), []uint32{0, 2}) {
		t.Errorf("Postings(alerting) = %v, %v", bm, err)
	}
	ref := index.Term{Field: index.RefField, Value: index.RefValue("action", "c-1", "s2", true)}
	if bm, err := r.Postings(ref); err != nil || bm.GetCardinality() != 1 {
		t.Errorf("Postings(ref) = %v, %v", bm, err)
	}
}

// TestReadV2 opens the fixture of format version 2 and checks the postings
// it adds to version 1's: refs keyed id first, each ref's rel, and the
// events' spaces.
func TestReadV2(t *testing.T) {
	r := openFixture(t, "testdata/golden-v2.seg", goldenRows(t))
	if info := r.Info(); info.Version != 2 || r.Layout() != index.LayoutV2 {
		t.Errorf("Info = %+v, Layout %d", info, r.Layout())
	}
	// Rows in (@timestamp, seq) order: 0 the alert (no namespace, no
	// space_ids), 1 the action in s2 listing default and s2, 2 and 3 no refs.
	checkPostings(t, r, []postingCase{
		{index.Term{Field: index.RefField, Value: index.RefKey("c-1", "action", "s2", true)}, []uint32{1}},
		{index.Term{Field: index.RefField, Value: index.RefKey("a-1", "alert", "default", true)}, []uint32{0}},
		{index.Term{Field: index.RefRelField, Value: "primary"}, []uint32{0, 1}},
		{index.Term{Field: index.SpacesField, Value: "default"}, []uint32{0, 1, 2, 3}},
		{index.Term{Field: index.SpacesField, Value: "s2"}, []uint32{1}},
	})
}
