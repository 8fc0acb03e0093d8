package bench

import (
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// ruleRef is one rule an alerting event is about.
type ruleRef struct {
	index int
	id    string
	typ   *ruleType
	space string
}

func (g *Generator) drawRule() ruleRef {
	i := g.objects.rule()
	return ruleRef{index: i, id: g.objects.id(i), typ: ruleTypeOf(i), space: spaceOf(i)}
}

// label is "ruleTypeId:ruleId: 'name'", the way Kibana names a rule in
// messages.
func (r ruleRef) label() string {
	return r.typ.id + ":" + r.id + ": '" + ruleName(r.index) + "'"
}

// setRule sets the fields every alerting event carries for rule r: its
// primary saved-object ref, its space, the rule type and consumer, a fresh
// execution uuid, the ECS rule fields and, on one in twenty, tags.
func (g *Generator) setRule(e *event.Event, r ruleRef) {
	e.Event.Kind = "alert"
	e.Kibana.SavedObjects = []event.SavedObject{{
		Rel: event.RelPrimary, Namespace: r.space, ID: r.id, Type: "alert", TypeID: r.typ.id,
	}}
	e.Kibana.SpaceIDs = event.Strings(spaceIDs(r.space)...)
	e.Kibana.Alert.Rule.RuleTypeID = r.typ.id
	e.Kibana.Alert.Rule.Consumer = r.typ.consumer
	e.Kibana.Alert.Rule.Execution.UUID = randomUUID(g.rng)
	e.Rule = event.Rule{
		ID: r.id, Name: ruleName(r.index), Category: r.typ.id,
	}
	if g.rng.IntN(20) == 0 {
		e.Tags = event.Strings("prod", r.typ.consumer)
	}
}

// alertExecute is alerting/execute: one run of a rule's executor, with its
// timing and execution metrics. (The schedule delay is on taskManager/run.)
func (g *Generator) alertExecute(e *event.Event, o outcome) {
	r := g.drawRule()
	g.setRule(e, r)
	e.Message = "alert executed: " + r.label()
	e.Event.Category = event.Strings(r.typ.producer)
	d := g.logNormalMillis(120*time.Millisecond, 1.1)
	setTiming(e, d)
	g.setExecutionStatus(e, o, r)
	g.setMetrics(&e.Kibana.Alert.Rule.Execution.Metrics, d)
}

// setExecutionStatus sets the alerting status, and the failure of a failed
// run.
func (g *Generator) setExecutionStatus(e *event.Event, o outcome, r ruleRef) {
	switch o {
	case success:
		e.Kibana.Alerting.Status = pick(g, []string{"ok", "ok", "ok", "active"})
	case failed:
		e.Kibana.Alerting.Status = "error"
		setFailure(e, pick(g, ruleFailures), r.id)
	default:
		e.Kibana.Alerting.Status = "warning"
		e.Event.Reason = "maxExecutableActions"
		e.Message += ": the maximum number of actions for this rule type was reached"
	}
}

// setMetrics fills the execution metrics of a run that took d: the search
// counts always, the alert and action counts when the rule has active alerts
// (one run in four), the gap rarely.
func (g *Generator) setMetrics(m *event.ExecutionMetrics, d time.Duration) {
	search := int64(d/time.Millisecond) * (20 + g.rng.Int64N(60)) / 100
	m.NumberOfSearches = event.Int(1 + g.rng.Int64N(3))
	m.TotalSearchDurationMs = event.Int(search)
	if g.rng.IntN(4) == 0 {
		active := 1 + g.rng.Int64N(8)
		actions := active * g.rng.Int64N(2)
		m.NumberOfTriggeredActions = event.Int(actions)
		m.NumberOfScheduledActions = event.Int(actions)
		m.NumberOfNewAlerts = event.Int(active / 4)
		m.NumberOfActiveAlerts = event.Int(active)
		m.NumberOfRecoveredAlerts = event.Int(g.rng.Int64N(2) * active / 3)
		m.TotalIndexingDurationMs = event.Int(g.rng.Int64N(1 + active*5))
	}
	if g.rng.IntN(50) == 0 {
		m.ExecutionGapDurationS = event.Int(60 + g.rng.Int64N(3600))
	}
}

// alertExecuteAction is alerting/execute-action: a rule scheduling one of its
// actions for an alert instance. It refers to the rule (primary) and the
// connector.
func (g *Generator) alertExecuteAction(e *event.Event, o outcome) {
	r := g.drawRule()
	g.setRule(e, r)
	c := g.objects.connOfRule(r.index)
	typeID, _ := connectorOf(c)
	cid := g.objects.id(c)
	e.Kibana.SavedObjects = append(e.Kibana.SavedObjects, event.SavedObject{
		Namespace: spaceOf(c), ID: cid, Type: "action", TypeID: typeID,
	})
	inst := g.instanceID(r)
	e.Kibana.Alerting.InstanceID = inst
	e.Kibana.Alerting.ActionGroupID = r.typ.group
	e.Message = "alert: " + r.label() + " instanceId: '" + inst + "' scheduled actionGroup: '" +
		r.typ.group + "' action: " + typeID + ":" + cid
	if o == failed {
		setFailure(e, failure{"maxQueuedActions", "action was not scheduled: maximum number of queued actions reached"}, "")
	}
}

// instanceID draws an alert instance of rule r, e.g. "host-7".
func (g *Generator) instanceID(r ruleRef) string {
	return r.typ.instance + strconv.Itoa(g.rng.IntN(24))
}

// alertInstance fills what the three instance events share, including why
// a failed one failed: the alert document could not be written.
func (g *Generator) alertInstance(e *event.Event, o outcome) (ruleRef, string) {
	r := g.drawRule()
	g.setRule(e, r)
	inst := g.instanceID(r)
	e.Kibana.Alerting.InstanceID = inst
	if o == failed {
		setFailure(e, pick(g, instanceFailures), inst)
	}
	return r, inst
}

// alertNewInstance is alerting/new-instance: an alert became active.
func (g *Generator) alertNewInstance(e *event.Event, o outcome) {
	r, inst := g.alertInstance(e, o)
	e.Kibana.Alerting.ActionGroupID = r.typ.group
	e.Event.Start = e.Timestamp
	e.Event.Duration = &event.Duration{}
	e.Message = r.label() + " created new alert: '" + inst + "'"
}

// alertActiveInstance is alerting/active-instance: an alert is still active;
// its duration is how long it has been.
func (g *Generator) alertActiveInstance(e *event.Event, o outcome) {
	r, inst := g.alertInstance(e, o)
	e.Kibana.Alerting.ActionGroupID = r.typ.group
	g.setInstanceTiming(e, false)
	e.Message = r.label() + " active alert: '" + inst + "' in actionGroup: '" + r.typ.group + "'"
}

// alertRecoveredInstance is alerting/recovered-instance: an alert is no
// longer active.
func (g *Generator) alertRecoveredInstance(e *event.Event, o outcome) {
	r, inst := g.alertInstance(e, o)
	e.Kibana.Alerting.ActionGroupID = "recovered"
	g.setInstanceTiming(e, true)
	e.Message = r.label() + " alert '" + inst + "' has recovered"
}

// setInstanceTiming sets how long the alert has been active (minutes to
// hours); a recovered alert also gets its end.
func (g *Generator) setInstanceTiming(e *event.Event, ended bool) {
	d := g.logNormalMillis(20*time.Minute, 1.3)
	setTiming(e, d)
	if !ended {
		e.Event.End = event.Date{}
	}
}

// alertExecuteTimeout is alerting/execute-timeout: a run cancelled for
// running past its rule type's timeout.
func (g *Generator) alertExecuteTimeout(e *event.Event, o outcome) {
	r := g.drawRule()
	g.setRule(e, r)
	e.Event.Category = event.Strings(r.typ.producer)
	setTiming(e, 5*time.Minute+g.logNormalMillis(2*time.Second, 1.0))
	e.Message = "rule: " + r.label() + " execution cancelled due to timeout - exceeded rule type timeout of 5m"
	if o == failed {
		setFailure(e, failure{"timeout", "rule [%s] could not be cancelled: search_context_missing_exception"}, r.id)
	}
}
