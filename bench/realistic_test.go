package bench

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// The figures issue 15 asks of the generator, written out here rather than
// taken from the generator's constants, so that the test checks the
// generator against the issue and not against itself.
var (
	wantProviderShare = map[string]float64{"alerting": 0.45, "actions": 0.15, "taskManager": 0.14, "security": 0.08}
	wantOutcomeShare  = map[string]float64{"success": 0.90, "failure": 0.06, "unknown": 0.04}
)

const (
	wantProviders     = 8
	wantUsers         = 500
	wantSpaces        = 20
	wantDefaultShare  = 0.30
	wantOutOfOrder    = 0.02
	wantMeanJSON      = 750
	wantSpan          = 30 * 24 * time.Hour
	realisticSampleN  = 200_000
	maxLatenessIssued = 10 * time.Second // "by up to a few seconds"
)

// realisticTally counts what TestGeneratedEventsAreDistinctAndRealistic
// checks over a run of generated events.
type realisticTally struct {
	n, late, jsonBytes         int
	providers, outcomes        map[string]int
	actions                    map[string]map[string]bool
	users, spaces, execUUIDs   map[string]bool
	defaultSpace, refsOutside  int
	failuresWithoutMessage     int
	alerting, alertingNoExecID int
	hashes                     map[[16]byte]int
	high, lo                   int64
	maxBack                    int64
}

func newRealisticTally() *realisticTally {
	return &realisticTally{
		providers: map[string]int{}, outcomes: map[string]int{}, actions: map[string]map[string]bool{},
		users: map[string]bool{}, spaces: map[string]bool{}, execUUIDs: map[string]bool{},
		hashes: map[[16]byte]int{}, high: -1 << 63, lo: 1<<63 - 1,
	}
}

// add counts event i, whose JSON is js, and fails t if it repeats an
// earlier event.
func (r *realisticTally) add(t *testing.T, i int, e *event.Event, js []byte) {
	t.Helper()
	h := sha256.Sum256(js)
	key := [16]byte(h[:16])
	if j, dup := r.hashes[key]; dup {
		t.Fatalf("event %d repeats event %d: %s", i, j, js)
	}
	r.hashes[key] = i
	r.n++
	r.jsonBytes += len(js)
	r.addTime(e.Timestamp.UnixNano())
	r.providers[e.Event.Provider]++
	r.outcomes[e.Event.Outcome]++
	if r.actions[e.Event.Provider] == nil {
		r.actions[e.Event.Provider] = map[string]bool{}
	}
	r.actions[e.Event.Provider][e.Event.Action] = true
	if e.User.Name != "" {
		r.users[e.User.Name] = true
	}
	r.addSpace(e)
	r.addRefs(e)
	if e.Event.Outcome == "failure" && e.Error.Message == "" {
		r.failuresWithoutMessage++
	}
	r.addAlerting(e)
}

func (r *realisticTally) addTime(ts int64) {
	if ts < r.high {
		r.late++
		r.maxBack = max(r.maxBack, r.high-ts)
	}
	r.high, r.lo = max(r.high, ts), min(r.lo, ts)
}

func (r *realisticTally) addSpace(e *event.Event) {
	for _, s := range e.Kibana.SpaceIDs.Values {
		r.spaces[s] = true
		if s == event.DefaultSpace {
			r.defaultSpace++
		}
	}
}

func (r *realisticTally) addRefs(e *event.Event) {
	if n := len(e.Kibana.SavedObjects); n < 1 || n > 2 {
		r.refsOutside++
	}
	for _, ref := range e.Kibana.SavedObjects {
		if !uuidRE.MatchString(ref.ID) {
			r.refsOutside++
		}
	}
}

func (r *realisticTally) addAlerting(e *event.Event) {
	if e.Event.Provider != "alerting" {
		return
	}
	r.alerting++
	id := e.Kibana.Alert.Rule.Execution.UUID
	if id == "" || r.execUUIDs[id] {
		r.alertingNoExecID++
	}
	r.execUUIDs[id] = true
}

// TestGeneratedEventsAreDistinctAndRealistic generates what a 200,000-event
// `eventlog bench` run appends and checks that no two events are equal
// (by the SHA-256 of their JSON) and that the distributions are issue 15's.
func TestGeneratedEventsAreDistinctAndRealistic(t *testing.T) {
	const n = realisticSampleN
	w := GeneratedWorkload(GeneratorConfig{Seed: 1, Rate: SpreadRate(n)})
	tally := newRealisticTally()
	batch := make([]event.Event, 1000)
	var js []byte
	for first := 0; first < n; first += len(batch) {
		w.Fill(batch, int64(first))
		for i := range batch {
			js = event.AppendJSON(js[:0], &batch[i])
			tally.add(t, first+i, &batch[i], js)
		}
	}
	tally.check(t)
}

// check compares the tally with the figures; the tolerances are
// several standard errors at n = 200,000 wide.
func (r *realisticTally) check(t *testing.T) {
	t.Helper()
	for p, want := range wantProviderShare {
		within(t, p+" share", share(r.providers[p], r.n), want, 0.01)
	}
	for o, want := range wantOutcomeShare {
		within(t, o+" share", share(r.outcomes[o], r.n), want, 0.005)
	}
	within(t, "out-of-order share", share(r.late, r.n), wantOutOfOrder, 0.003)
	within(t, "mean JSON bytes", float64(r.jsonBytes)/float64(r.n), wantMeanJSON, 50)
	within(t, "default space share", share(r.defaultSpace, r.n), wantDefaultShare, 0.08)
	within(t, "@timestamp span (days)", float64(r.high-r.lo)/float64(24*time.Hour), wantSpan.Hours()/24, 0.5)
	if back := time.Duration(r.maxBack); back > maxLatenessIssued {
		t.Errorf("a late event is %v behind, want at most %v", back, maxLatenessIssued)
	}
	if len(r.providers) != wantProviders || len(r.spaces) != wantSpaces || len(r.users) > wantUsers || len(r.users) < wantUsers/2 {
		t.Errorf("%d providers, %d spaces, %d users; want %d, %d and at most %d", len(r.providers), len(r.spaces), len(r.users), wantProviders, wantSpaces, wantUsers)
	}
	for p, actions := range r.actions {
		if len(actions) < 4 || len(actions) > 8 {
			t.Errorf("provider %s has %d actions, want 4 to 8", p, len(actions))
		}
	}
	if r.refsOutside+r.failuresWithoutMessage+r.alertingNoExecID > 0 {
		t.Errorf("%d events without 1-2 UUID refs, %d failures without error.message, %d alerting events without a fresh execution uuid",
			r.refsOutside, r.failuresWithoutMessage, r.alertingNoExecID)
	}
}
