package bench

import (
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// connRef is one connector an actions event is about.
type connRef struct {
	id, typeID, name, space string
}

func (g *Generator) drawConn() connRef {
	i := g.objects.conn()
	typeID, name := connectorOf(i)
	return connRef{id: g.objects.id(i), typeID: typeID, name: name, space: spaceOf(i)}
}

// label is "actionTypeId:actionId: name", the way Kibana names a connector
// in messages.
func (c connRef) label() string { return c.typeID + ":" + c.id + ": " + c.name }

// setConn sets the fields every actions event carries for connector c.
func (g *Generator) setConn(e *event.Event, c connRef, o outcome) {
	e.Event.Kind = "action"
	e.Kibana.SavedObjects = []event.SavedObject{{
		Rel: event.RelPrimary, Namespace: c.space, ID: c.id, Type: "action", TypeID: c.typeID,
	}}
	e.Kibana.SpaceIDs = event.Strings(spaceIDs(c.space)...)
	setTiming(e, g.logNormalMillis(250*time.Millisecond, 1.0))
	if o == failed {
		setFailure(e, pick(g, actionFailures), c.id)
	}
}

// actionExecute is actions/execute: a connector run by the actions client,
// usually for a rule (whose ref rides along without rel).
func (g *Generator) actionExecute(e *event.Event, o outcome) {
	c := g.drawConn()
	g.setConn(e, c, o)
	if g.rng.IntN(10) < 7 {
		r := g.drawRule()
		e.Kibana.SavedObjects = append(e.Kibana.SavedObjects, event.SavedObject{
			Namespace: r.space, ID: r.id, Type: "alert", TypeID: r.typ.id,
		})
	}
	e.Message = "action executed: " + c.label()
	if o == failed {
		e.Message = "action execution failure: " + c.label()
	}
}

// actionExecuteViaHTTP is actions/execute-via-http: a user running a
// connector from the UI or API.
func (g *Generator) actionExecuteViaHTTP(e *event.Event, o outcome) {
	c := g.drawConn()
	g.setConn(e, c, o)
	e.User.Name = g.userName()
	e.Message = "action executed via http: " + c.label()
}

// actionExecuteStart is actions/execute-start: a connector run beginning.
func (g *Generator) actionExecuteStart(e *event.Event, o outcome) {
	c := g.drawConn()
	g.setConn(e, c, o)
	e.Event.End, e.Event.Duration = event.Date{}, nil
	e.Message = "action started: " + c.label()
}

// actionExecuteTimeout is actions/execute-timeout: a connector run that
// outlived its task's timeout.
func (g *Generator) actionExecuteTimeout(e *event.Event, o outcome) {
	c := g.drawConn()
	g.setConn(e, c, o)
	e.Message = "action: " + c.label() + " execution cancelled due to timeout - exceeded default timeout of 5m"
}
