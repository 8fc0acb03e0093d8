package bench

import (
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// setApp sets what the cases, reporting and fleet events share: the
// primary ref to an object of type t drawn from the pool, its space, the
// user who acted and, on failure, why. It returns the ref.
func (g *Generator) setApp(e *event.Event, o outcome, t int) event.SavedObject {
	ref := g.objects.ref(t, g.objects.draw(t), event.RelPrimary)
	e.Event.Kind = "event"
	e.Kibana.SavedObjects = []event.SavedObject{ref}
	e.Kibana.SpaceIDs = event.Strings(spaceIDs(ref.Namespace)...)
	e.User.Name = g.userName()
	if o == failed {
		setFailure(e, pick(g, appFailures), ref.ID)
	}
	return ref
}

// caseChange is cases/create, update and delete.
func (g *Generator) caseChange(e *event.Event, o outcome) {
	ref := g.setApp(e, o, typeCase)
	e.Message = "User [" + e.User.Name + "] " + e.Event.Action + "d case id: " + ref.ID
	if e.Event.Action == "update" {
		e.Message += " (" + strconv.Itoa(1+g.rng.IntN(6)) + " fields)"
	}
}

// casePush is cases/push: a case pushed to an external system through a
// connector, the second ref.
func (g *Generator) casePush(e *event.Event, o outcome) {
	ref := g.setApp(e, o, typeCase)
	c := g.drawConn()
	e.Kibana.SavedObjects = append(e.Kibana.SavedObjects, event.SavedObject{
		Namespace: c.space, ID: c.id, Type: "action", TypeID: c.typeID,
	})
	e.Message = "User [" + e.User.Name + "] pushed case id: " + ref.ID + " to external service " + c.label()
	setTiming(e, g.logNormalMillis(800*time.Millisecond, 0.8))
}

// reportEvent is reporting/generate, download and delete.
func (g *Generator) reportEvent(e *event.Event, o outcome) {
	ref := g.setApp(e, o, typeReport)
	e.Message = "Report " + ref.ID + " " + e.Event.Action + " by [" + e.User.Name + "]: " +
		pick(g, reportJobs) + " (" + strconv.Itoa(1+g.rng.IntN(5000)) + " KB)"
}

// reportExecute is reporting/execute: a report job run, with its timing.
func (g *Generator) reportExecute(e *event.Event, o outcome) {
	ref := g.setApp(e, o, typeReport)
	d := g.logNormalMillis(4*time.Second, 1.0)
	setTiming(e, d)
	e.Message = "Executed report job " + ref.ID + " (" + pick(g, reportJobs) + ") in " +
		strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// reportJobs are the kinds of report job.
var reportJobs = []string{"printable_pdf_v2", "png_v2", "csv_searchsource", "csv_v2"}

// fleetEvent is the fleet provider's events, about an agent policy.
func (g *Generator) fleetEvent(e *event.Event, o outcome) {
	ref := g.setApp(e, o, typeAgentPolicy)
	agent := randomUUID(g.rng)
	switch e.Event.Action {
	case "policy_update":
		e.Message = "Agent policy " + ref.ID + " updated to revision " + strconv.Itoa(1+g.rng.IntN(300))
	case "package_install":
		e.Message = "Package " + pick(g, fleetPackages) + " installed on agent policy " + ref.ID
	default:
		e.Message = "Agent " + agent + " " + e.Event.Action[len("agent_"):] + "ed on agent policy " + ref.ID
	}
}

// fleetPackages are the integrations fleet installs.
var fleetPackages = []string{"system-1.54.0", "endpoint-8.14.1", "apm-8.14.0", "kubernetes-1.62.1", "aws-2.17.0"}
