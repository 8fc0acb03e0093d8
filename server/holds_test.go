package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/query"
)

// holdDay5 holds the events of day -5 before day0 (expired under 72 h).
const holdDay5 = `{"name":"inc-7","filter":"event.provider:app","start":"2024-05-15T00:00:00Z","end":"2024-05-15T23:59:59Z","reason":"incident 7"}`

// TestHoldsAPI: create, list, retention keeping the held segment (dry run
// and real), stats, release; bad input refused with nothing stored.
func TestHoldsAPI(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{RetentionMaxAge: 72 * time.Hour})
	e.segmentsOfDays(6, 5)
	for _, c := range []struct{ body, want string }{
		{`{"name":"x","filter":"event.provider:app"}`, "reason is required"},
		{`{"name":"x","filter":"event.provider:app","reason":"r","start":"soon"}`, "start"},
		{`{"name":"x","filter":"event.provider:app","reason":"r","extra":1}`, "extra"},
		{`{"name":"bad name","filter":"event.provider:app","reason":"r"}`, "name"},
	} {
		if r := e.do("POST", "/api/_holds", ctJSON, c.body); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
			t.Errorf("POST %s: %d %s, want 400 naming %q", c.body, r.status, r.body, c.want)
		}
	}
	if r := e.do("POST", "/api/_holds", ctJSON, holdDay5); r.status != http.StatusCreated || !strings.Contains(string(r.body), `"start":"2024-05-15T00:00:00Z"`) {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/_holds", ctJSON, holdDay5); r.status != http.StatusConflict {
		t.Fatalf("create twice: %d %s, want 409", r.status, r.body)
	}
	var list HoldsAnswer
	e.do("GET", "/api/_holds", "", "").decode(t, &list)
	if len(list.Holds) != 1 || list.Holds[0].Name != "inc-7" || list.Holds[0].Reason != "incident 7" || list.Holds[0].Events != 5 {
		t.Fatalf("list %+v, want inc-7 only", list)
	}
	type retention struct {
		Dropped   []eventlog.DroppedSegment `json:"dropped"`
		Held      []eventlog.DroppedSegment `json:"held"`
		HeldBytes int64                     `json:"held_bytes"`
	}
	for _, path := range []string{"/api/_retention?dry_run=true", "/api/_retention"} {
		var ans retention
		e.post(path, &ans)
		if len(ans.Dropped) != 1 || len(ans.Held) != 1 || ans.Held[0].Events != 5 || ans.HeldBytes != ans.Held[0].Bytes {
			t.Fatalf("%s: %+v, want day -4 dropped and day -5 held", path, ans)
		}
	}
	var st struct {
		Holds eventlog.HoldStats `json:"holds"`
	}
	e.do("GET", "/api/_stats", "", "").decode(t, &st)
	if st.Holds.Holds != 1 || st.Holds.Segments != 1 || st.Holds.Bytes <= 0 {
		t.Fatalf("stats holds %+v", st.Holds)
	}
	if res, err := e.db.Query(context.Background(), query.Request{Filter: "event.provider:app", PerPage: 1}); err != nil || res.Total != 5*4+5 {
		t.Fatalf("%d visible (%v), want days -3..0 and the held day -5", res.Total, err)
	}
	if r := e.do("DELETE", "/api/_holds/inc-7", "", ""); r.status != http.StatusOK {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/_holds/inc-7", "", ""); r.status != http.StatusNotFound {
		t.Fatalf("release twice: %d %s, want 404", r.status, r.body)
	}
	var ans retention
	e.post("/api/_retention", &ans)
	if len(ans.Dropped) != 1 || len(ans.Held) != 0 {
		t.Fatalf("after release: %+v, want day -5 dropped", ans)
	}
	// The engine recorded the create and the release.
	res, err := e.db.Query(context.Background(), query.Request{Filter: "event.provider:eventlog and labels.hold:inc-7", PerPage: 10})
	if err != nil || res.Total != 2 {
		t.Fatalf("hold records: %d (%v), want create and release", res.Total, err)
	}
}

// TestHoldsOverMaxBytes: a hold that keeps the store above its size bound
// shows in /healthz and /metrics.
func TestHoldsOverMaxBytes(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{RetentionMaxBytes: 1})
	e.segmentsOfDays(3, 5)
	if r := e.do("POST", "/api/_holds", ctJSON, `{"name":"h","filter":"event.provider:app","start":"2024-05-18T00:00:00Z","end":"2024-05-18T23:59:59Z","reason":"r"}`); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var ans struct {
		Dropped []eventlog.DroppedSegment `json:"dropped"`
	}
	e.post("/api/_retention", &ans)
	if len(ans.Dropped) != 2 {
		t.Fatalf("retention %+v, want the two unheld days dropped", ans)
	}
	r := e.do("GET", "/healthz", "", "")
	var h struct {
		Status           string `json:"status"`
		Reason           string `json:"reason"`
		HeldOverMaxBytes int64  `json:"held_over_max_bytes"`
	}
	if err := json.Unmarshal(r.body, &h); err != nil {
		t.Fatal(err)
	}
	if h.Status != "degraded" || h.HeldOverMaxBytes <= 0 || !strings.Contains(h.Reason, "holds") {
		t.Fatalf("healthz %s", r.body)
	}
	m := e.do("GET", "/metrics", "", "")
	if !strings.Contains(string(m.body), "eventlog_held_over_max_bytes ") || strings.Contains(string(m.body), "eventlog_held_over_max_bytes 0\n") {
		t.Fatalf("metrics lack a non-zero eventlog_held_over_max_bytes")
	}
	if r := e.do("DELETE", "/api/_holds/h", "", ""); r.status != http.StatusOK {
		t.Fatalf("release: %d", r.status)
	}
	e.post("/api/_retention", &ans)
	if r := e.do("GET", "/healthz", "", ""); !strings.Contains(string(r.body), `"status":"ok"`) {
		t.Fatalf("healthz after release and retention: %s", r.body)
	}
}
