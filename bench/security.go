package bench

import (
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// userName draws a Kibana user, a few of them far more active than the rest.
func (g *Generator) userName() string {
	i := int(g.users.Uint64())
	if i < len(fixedUsers) {
		return fixedUsers[i]
	}
	return "user" + strconv.Itoa(i)
}

// setSecurity sets what the security events share: the user, where they came
// from and, on failure, why it failed.
func (g *Generator) setSecurity(e *event.Event, o outcome, category, typ string) string {
	user := g.userName()
	e.Event.Kind = "event"
	e.Event.Category = event.Strings(category)
	e.Event.Type = event.Strings(typ)
	e.User.Name = user
	e.Source.IP = "10.20." + strconv.Itoa(len(user)*7%256) + "." + strconv.Itoa(1+g.rng.IntN(254))
	e.Kibana.SpaceIDs = event.Strings(event.DefaultSpace)
	if o == failed {
		setFailure(e, pick(g, securityFailures), user)
	}
	return user
}

// userLogin is security/user_login.
func (g *Generator) userLogin(e *event.Event, o outcome) {
	user := g.setSecurity(e, o, "authentication", "start")
	e.Message = "user [" + user + "] logged in"
	if o == failed {
		e.Message = "user [" + user + "] failed to log in"
	}
}

// userLogout is security/user_logout.
func (g *Generator) userLogout(e *event.Event, o outcome) {
	user := g.setSecurity(e, o, "authentication", "end")
	e.Message = "user [" + user + "] logged out"
}

// apiKeyCreate is security/api_key_create.
func (g *Generator) apiKeyCreate(e *event.Event, o outcome) {
	user := g.setSecurity(e, o, "iam", "creation")
	key := pick(g, []string{"fleet-enroll", "ci-deploy", "metrics-shipper", "terraform"})
	e.Message = "user [" + user + "] created API key [" + key + "]"
}

// taskRun is taskManager/run: one task run, most often a rule's or
// connector's task, otherwise a housekeeping task.
func (g *Generator) taskRun(e *event.Event, o outcome) {
	e.Event.Kind = "event"
	typ := pick(g, taskTypes)
	id := typ
	if g.rng.IntN(3) > 0 {
		r := g.drawRule()
		typ, id = "alerting:"+r.typ.id, r.id
	}
	e.Kibana.Task.ID = id
	d := g.logNormalMillis(300*time.Millisecond, 1.2)
	setTiming(e, d)
	delay := g.logNormalMillis(1500*time.Millisecond, 1.0)
	e.Kibana.Task.Scheduled = event.DateOf(e.Event.Start.Time().Add(-delay))
	e.Kibana.Task.ScheduleDelay = event.Int(int64(delay))
	e.Message = "task run: " + typ + ":" + id
	if o == failed {
		setFailure(e, pick(g, taskFailures), "")
	}
}

// eventLogLifecycle is eventLog/starting and eventLog/stopping: a Kibana
// instance starting or stopping its event log.
func (g *Generator) eventLogLifecycle(e *event.Event, o outcome) {
	e.Event.Kind = "event"
	e.Message = "eventLog " + e.Event.Action
	if o == failed {
		setFailure(e, failure{"initialization", "error initializing eventLog: index template could not be created"}, "")
	}
}
