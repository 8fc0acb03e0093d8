package bench

import (
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// userName draws a Kibana user, a few of them far more active than the rest.
func (g *Generator) userName() string { return nameOfUser(g.drawUser()) }

// drawUser draws a user's number.
func (g *Generator) drawUser() int { return int(g.users.Uint64()) }

// nameOfUser returns user i's name.
func nameOfUser(i int) string {
	if i < len(fixedUsers) {
		return fixedUsers[i]
	}
	return "user" + strconv.Itoa(i)
}

// setSecurity sets what the security events share: the user, where they came
// from and, on failure, why it failed.
func (g *Generator) setSecurity(e *event.Event, o outcome, category, typ string) string {
	u := g.drawUser()
	user := nameOfUser(u)
	profile := g.objects.nth(typeUserProfile, u)
	e.Kibana.SavedObjects = []event.SavedObject{g.objects.ref(typeUserProfile, profile, event.RelPrimary)}
	e.Event.Kind = "event"
	e.Event.Category = event.Strings(category)
	e.Event.Type = event.Strings(typ)
	e.User.Name = user
	e.Source.IP = "10.20." + strconv.Itoa(len(user)*7%256) + "." + strconv.Itoa(1+g.rng.IntN(254))
	e.Kibana.SpaceIDs = event.Strings(spaceIDs(spaceOf(profile))...)
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

// apiKeyInvalidate is security/api_key_invalidate.
func (g *Generator) apiKeyInvalidate(e *event.Event, o outcome) {
	user := g.setSecurity(e, o, "iam", "deletion")
	e.Message = "user [" + user + "] invalidated API key [" + randomUUID(g.rng)[:20] + "]"
}

// sessionCleanup is security/session_cleanup: expired sessions removed.
func (g *Generator) sessionCleanup(e *event.Event, o outcome) {
	user := g.setSecurity(e, o, "session", "deletion")
	e.Message = "removed " + strconv.Itoa(1+g.rng.IntN(40)) + " expired sessions of user [" + user + "]"
}

// setTask sets the primary ref and id of a task event, and returns the
// task's type and id: most often a rule's task (the rule rides along as a
// second ref), otherwise a housekeeping task.
func (g *Generator) setTask(e *event.Event) (typ, id string) {
	e.Event.Kind = "event"
	t := g.objects.draw(typeTask)
	ref := g.objects.ref(typeTask, t, event.RelPrimary)
	e.Kibana.SavedObjects = []event.SavedObject{ref}
	e.Kibana.SpaceIDs = event.Strings(spaceIDs(ref.Namespace)...)
	typ, id = taskTypes[hashOf(saltType, t)%uint64(len(taskTypes))], ref.ID
	if g.rng.IntN(3) > 0 {
		r := g.drawRule()
		typ = "alerting:" + r.typ.id
		e.Kibana.SavedObjects = append(e.Kibana.SavedObjects, event.SavedObject{
			Namespace: r.space, ID: r.id, Type: "alert", TypeID: r.typ.id,
		})
	}
	e.Kibana.Task.ID = id
	return typ, id
}

// taskChange is taskManager/schedule, update and remove.
func (g *Generator) taskChange(e *event.Event, o outcome) {
	typ, id := g.setTask(e)
	e.Message = "task " + e.Event.Action + ": " + typ + ":" + id
	if o == failed {
		setFailure(e, pick(g, appFailures), id)
	}
}

// taskRun is taskManager/run: one task run, most often a rule's or
// connector's task, otherwise a housekeeping task.
func (g *Generator) taskRun(e *event.Event, o outcome) {
	typ, id := g.setTask(e)
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
	t := g.objects.draw(typeTask)
	ref := g.objects.ref(typeTask, t, event.RelPrimary)
	e.Kibana.SavedObjects = []event.SavedObject{ref}
	e.Kibana.SpaceIDs = event.Strings(event.DefaultSpace)
	e.Message = "eventLog " + e.Event.Action + " on kibana " + e.Kibana.ServerUUID + " (task " + ref.ID + ")"
	if o == failed {
		setFailure(e, failure{"initialization", "error initializing eventLog: index template could not be created"}, "")
	}
}
