package segment

import (
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
)

// goldenPackedKeysJSON is the row version 6 adds (sequence 18, last in
// time): refs whose ids are UUIDs sharing their first 8 and 3 bytes with
// row 5's (packed as the bytes after those, primary and not), and an
// uppercase UUID, which is not canonical and stays text.
const goldenPackedKeysJSON = `{"@timestamp":"2019-12-10T07:00:00Z","event":{"provider":"alerting","action":"execute"},"kibana":{"saved_objects":[{"rel":"primary","type":"alert","id":"9a0a3de3-2aa2-4914-0000-000000000001"},{"type":"action","namespace":"s2","id":"9a0a3d00-0000-4000-8000-00000000000f"},{"type":"action","id":"9A0A3DE3-2AA2-4914-B84D-FEF884DADC2F"}]}}`

// goldenRowsV6 are goldenRowsV5 with the row of packed ref keys.
func goldenRowsV6(t testing.TB) []Row {
	t.Helper()
	ev, err := event.Decode([]byte(goldenPackedKeysJSON), event.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return append(goldenRowsV5(t), Row{Seq: 18, Event: &ev})
}

// TestGoldenV5 checks that a writer asked for version 5 still writes
// exactly the released version 5 fixture.
func TestGoldenV5(t *testing.T) { checkOldWriter(t, 5, goldenRowsV5(t)) }

// TestReadV6 opens the fixture of format version 6: every row comes back
// byte for byte (openFixture), and the ref keys of its packed dictionary
// answer as text: whole, by id prefix, with or without a UUID id.
func TestReadV6(t *testing.T) {
	r := openFixture(t, "testdata/golden-v6.seg", goldenRowsV6(t))
	if info := r.Info(); info.Version != 6 || r.Layout() != index.LayoutV6 {
		t.Errorf("Info = %+v, Layout %d", info, r.Layout())
	}
	checkPostings(t, r, []postingCase{
		{index.Term{Field: index.RefField, Value: index.RefKey("9a0a3de3-2aa2-4914-b84d-fef884dadc2f", "alert", "default", true)}, []uint32{5}},
		{index.Term{Field: index.RefField, Value: index.RefKey("9a0a3de3-2aa2-4914-0000-000000000001", "alert", "default", true)}, []uint32{7}},
		{index.Term{Field: index.RefField, Value: index.RefKey("9a0a3d00-0000-4000-8000-00000000000f", "action", "s2", false)}, []uint32{7}},
		{index.Term{Field: index.RefField, Value: index.RefKey("9A0A3DE3-2AA2-4914-B84D-FEF884DADC2F", "action", "default", false)}, []uint32{7}},
		{index.Term{Field: index.RefField, Value: index.RefKey("a-1", "alert", "default", true)}, []uint32{0, 6}},
	})
	post, err := r.postings()
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]string{ // an id alone is a prefix of its keys
		"9a0a3de3-2aa2-4914-0000-000000000001": {index.RefKey("9a0a3de3-2aa2-4914-0000-000000000001", "alert", "default", true)},
		"9a0a3d00-0000-4000-8000-00000000000f": {index.RefKey("9a0a3d00-0000-4000-8000-00000000000f", "action", "s2", false)},
		"9a0a3de3":                             nil,
	} {
		var got []string
		err = post.EachPrefix(index.RefField, index.RefIDPrefix(id), func(v string, _ *roaring.Bitmap) error {
			got = append(got, v)
			return nil
		})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("keys of id %s: %q, %v; want %q", id, got, err, want)
		}
	}
}
