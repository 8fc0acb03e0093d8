package event

import "sort"

// Kind is the type of a field's value.
type Kind uint8

// The kinds of field. The JSON decoder, the binary codec and (later) the
// segment columns and the filter language all work from these.
const (
	KindString   Kind = iota + 1 // string
	KindStrings                  // StringList
	KindDate                     // Date
	KindInt                      // *int64
	KindFloat                    // *float64
	KindDuration                 // *Duration (event.duration only)
	KindLabels                   // map[string]string (labels only)
	KindRefs                     // []SavedObject (kibana.saved_objects only)
	KindIP                       // string holding a validated IPv4 or IPv6 address
	KindExtra                    // Extra (the kept unknown fields only)
)

// Field describes one leaf field of Event: its dotted JSON path, kind, wire
// id and how to reach it. Exactly one accessor matching Kind is set (none for
// the single-field kinds Duration, Labels and Refs).
type Field struct {
	// ID is the field's number in the binary form. Wire constant: never
	// change or reuse one; add new fields with new numbers.
	ID   uint8
	Name string
	Kind Kind
	// Indexed fields have postings (inverted indexes) in the head and
	// segments.
	Indexed bool

	Str   func(*Event) *string
	List  func(*Event) *StringList
	Date  func(*Event) *Date
	Int   func(*Event) **int64
	Float func(*Event) **float64
}

func str(id uint8, name string, f func(*Event) *string) Field {
	return Field{ID: id, Name: name, Kind: KindString, Str: f}
}

func ip(id uint8, name string, f func(*Event) *string) Field {
	return Field{ID: id, Name: name, Kind: KindIP, Str: f}
}

func list(id uint8, name string, f func(*Event) *StringList) Field {
	return Field{ID: id, Name: name, Kind: KindStrings, List: f}
}

func date(id uint8, name string, f func(*Event) *Date) Field {
	return Field{ID: id, Name: name, Kind: KindDate, Date: f}
}

func integer(id uint8, name string, f func(*Event) **int64) Field {
	return Field{ID: id, Name: name, Kind: KindInt, Int: f}
}

func float(id uint8, name string, f func(*Event) **float64) Field {
	return Field{ID: id, Name: name, Kind: KindFloat, Float: f}
}

func indexed(f Field) Field { f.Indexed = true; return f }

// fields lists every leaf of Event in canonical order. IDs are wire constants.
var fields = []Field{
	date(1, "@timestamp", func(e *Event) *Date { return &e.Timestamp }),
	str(2, "message", func(e *Event) *string { return &e.Message }),
	indexed(list(3, "tags", func(e *Event) *StringList { return &e.Tags })),
	{ID: 4, Name: "labels", Kind: KindLabels},
	str(5, "ecs.version", func(e *Event) *string { return &e.ECS.Version }),
	str(6, "error.code", func(e *Event) *string { return &e.Error.Code }),
	str(7, "error.id", func(e *Event) *string { return &e.Error.ID }),
	str(8, "error.message", func(e *Event) *string { return &e.Error.Message }),
	str(9, "error.stack_trace", func(e *Event) *string { return &e.Error.StackTrace }),
	str(10, "error.type", func(e *Event) *string { return &e.Error.Type }),
	indexed(str(11, "event.action", func(e *Event) *string { return &e.Event.Action })),
	list(12, "event.category", func(e *Event) *StringList { return &e.Event.Category }),
	str(13, "event.code", func(e *Event) *string { return &e.Event.Code }),
	date(14, "event.created", func(e *Event) *Date { return &e.Event.Created }),
	str(15, "event.dataset", func(e *Event) *string { return &e.Event.Dataset }),
	{ID: 16, Name: "event.duration", Kind: KindDuration},
	date(17, "event.end", func(e *Event) *Date { return &e.Event.End }),
	str(18, "event.hash", func(e *Event) *string { return &e.Event.Hash }),
	str(19, "event.id", func(e *Event) *string { return &e.Event.ID }),
	date(20, "event.ingested", func(e *Event) *Date { return &e.Event.Ingested }),
	str(21, "event.kind", func(e *Event) *string { return &e.Event.Kind }),
	str(22, "event.module", func(e *Event) *string { return &e.Event.Module }),
	str(23, "event.original", func(e *Event) *string { return &e.Event.Original }),
	indexed(str(24, "event.outcome", func(e *Event) *string { return &e.Event.Outcome })),
	indexed(str(25, "event.provider", func(e *Event) *string { return &e.Event.Provider })),
	str(26, "event.reason", func(e *Event) *string { return &e.Event.Reason }),
	str(27, "event.reference", func(e *Event) *string { return &e.Event.Reference }),
	float(28, "event.risk_score", func(e *Event) **float64 { return &e.Event.RiskScore }),
	float(29, "event.risk_score_norm", func(e *Event) **float64 { return &e.Event.RiskScoreNorm }),
	integer(30, "event.sequence", func(e *Event) **int64 { return &e.Event.Sequence }),
	integer(31, "event.severity", func(e *Event) **int64 { return &e.Event.Severity }),
	date(32, "event.start", func(e *Event) *Date { return &e.Event.Start }),
	str(33, "event.timezone", func(e *Event) *string { return &e.Event.Timezone }),
	list(34, "event.type", func(e *Event) *StringList { return &e.Event.Type }),
	str(35, "event.url", func(e *Event) *string { return &e.Event.URL }),
	indexed(str(36, "log.level", func(e *Event) *string { return &e.Log.Level })),
	str(37, "log.logger", func(e *Event) *string { return &e.Log.Logger }),
	list(38, "rule.author", func(e *Event) *StringList { return &e.Rule.Author }),
	str(39, "rule.category", func(e *Event) *string { return &e.Rule.Category }),
	str(40, "rule.description", func(e *Event) *string { return &e.Rule.Description }),
	str(41, "rule.id", func(e *Event) *string { return &e.Rule.ID }),
	str(42, "rule.license", func(e *Event) *string { return &e.Rule.License }),
	str(43, "rule.name", func(e *Event) *string { return &e.Rule.Name }),
	str(44, "rule.reference", func(e *Event) *string { return &e.Rule.Reference }),
	str(45, "rule.ruleset", func(e *Event) *string { return &e.Rule.Ruleset }),
	str(46, "rule.uuid", func(e *Event) *string { return &e.Rule.UUID }),
	str(47, "rule.version", func(e *Event) *string { return &e.Rule.Version }),
	indexed(str(48, "user.name", func(e *Event) *string { return &e.User.Name })),
	str(49, "user.id", func(e *Event) *string { return &e.User.ID }),
	str(50, "user.email", func(e *Event) *string { return &e.User.Email }),
	str(51, "user.full_name", func(e *Event) *string { return &e.User.FullName }),
	list(52, "user.roles", func(e *Event) *StringList { return &e.User.Roles }),
	str(53, "kibana.server_uuid", func(e *Event) *string { return &e.Kibana.ServerUUID }),
	str(54, "kibana.namespace", func(e *Event) *string { return &e.Kibana.Namespace }),
	str(55, "kibana.version", func(e *Event) *string { return &e.Kibana.Version }),
	list(56, "kibana.space_ids", func(e *Event) *StringList { return &e.Kibana.SpaceIDs }),
	str(57, "kibana.task.id", func(e *Event) *string { return &e.Kibana.Task.ID }),
	date(58, "kibana.task.scheduled", func(e *Event) *Date { return &e.Kibana.Task.Scheduled }),
	integer(59, "kibana.task.schedule_delay", func(e *Event) **int64 { return &e.Kibana.Task.ScheduleDelay }),
	str(60, "kibana.alerting.instance_id", func(e *Event) *string { return &e.Kibana.Alerting.InstanceID }),
	str(61, "kibana.alerting.action_group_id", func(e *Event) *string { return &e.Kibana.Alerting.ActionGroupID }),
	str(62, "kibana.alerting.action_subgroup", func(e *Event) *string { return &e.Kibana.Alerting.ActionSubgroup }),
	str(63, "kibana.alerting.status", func(e *Event) *string { return &e.Kibana.Alerting.Status }),
	str(64, "kibana.alert.rule.consumer", func(e *Event) *string { return &e.Kibana.Alert.Rule.Consumer }),
	str(65, "kibana.alert.rule.rule_type_id", func(e *Event) *string { return &e.Kibana.Alert.Rule.RuleTypeID }),
	str(66, "kibana.alert.rule.execution.uuid", func(e *Event) *string { return &e.Kibana.Alert.Rule.Execution.UUID }),
	str(67, "kibana.alert.rule.execution.status", func(e *Event) *string { return &e.Kibana.Alert.Rule.Execution.Status }),
	integer(68, "kibana.alert.rule.execution.status_order", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.StatusOrder }),
	integer(69, "kibana.alert.rule.execution.metrics.number_of_triggered_actions", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.Metrics.NumberOfTriggeredActions }),
	integer(70, "kibana.alert.rule.execution.metrics.number_of_scheduled_actions", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.Metrics.NumberOfScheduledActions }),
	integer(71, "kibana.alert.rule.execution.metrics.number_of_new_alerts", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.Metrics.NumberOfNewAlerts }),
	integer(72, "kibana.alert.rule.execution.metrics.number_of_active_alerts", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.Metrics.NumberOfActiveAlerts }),
	integer(73, "kibana.alert.rule.execution.metrics.number_of_recovered_alerts", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.Metrics.NumberOfRecoveredAlerts }),
	integer(74, "kibana.alert.rule.execution.metrics.number_of_searches", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.Metrics.NumberOfSearches }),
	integer(75, "kibana.alert.rule.execution.metrics.total_indexing_duration_ms", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.Metrics.TotalIndexingDurationMs }),
	integer(76, "kibana.alert.rule.execution.metrics.es_search_duration_ms", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.Metrics.ESSearchDurationMs }),
	integer(77, "kibana.alert.rule.execution.metrics.total_search_duration_ms", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.Metrics.TotalSearchDurationMs }),
	integer(78, "kibana.alert.rule.execution.metrics.execution_gap_duration_s", func(e *Event) **int64 { return &e.Kibana.Alert.Rule.Execution.Metrics.ExecutionGapDurationS }),
	{ID: 79, Name: "kibana.saved_objects", Kind: KindRefs},
	ip(80, "source.ip", func(e *Event) *string { return &e.Source.IP }),
	ip(81, "client.ip", func(e *Event) *string { return &e.Client.IP }),
	str(82, "host.name", func(e *Event) *string { return &e.Host.Name }),
	str(83, "service.name", func(e *Event) *string { return &e.Service.Name }),
	str(84, "service.version", func(e *Event) *string { return &e.Service.Version }),
	str(85, "trace.id", func(e *Event) *string { return &e.Trace.ID }),
	str(86, "transaction.id", func(e *Event) *string { return &e.Transaction.ID }),
	str(87, "span.id", func(e *Event) *string { return &e.Span.ID }),
	str(88, "user_agent.original", func(e *Event) *string { return &e.UserAgent.Original }),
	str(89, "url.original", func(e *Event) *string { return &e.URL.Original }),
	str(90, "http.request.method", func(e *Event) *string { return &e.HTTP.Request.Method }),
	integer(91, "http.response.status_code", func(e *Event) **int64 { return &e.HTTP.Response.StatusCode }),
	// Engine fields, beside the event's own (see Event.ClientID, Index).
	indexed(str(idClientID, ClientIDField, func(e *Event) *string { return &e.ClientID })),
	indexed(str(93, IndexField, func(e *Event) *string { return &e.Index })),
	// The kept unknown fields: not a path of the document (FieldByName
	// does not know it) but the encoded tree, reached as a string.
	{ID: ExtraFieldID, Name: ExtraFieldName, Kind: KindExtra, Str: func(e *Event) *string { return &e.Extra.enc }},
}

// idClientID is the wire id of "_id", which Decode checks beyond a
// string's rules (non-empty).
const idClientID = 92

// ExtraFieldID is the wire id of the kept unknown fields (Event.Extra).
const ExtraFieldID = 94

// ExtraFieldName is the name of the field holding Event.Extra in the field
// table, the binary form and segment column listings. It is no path of a
// document: FieldByName does not return it.
const ExtraFieldName = "_extra"

var (
	byName = map[string]*Field{}
	byID   [256]*Field
	// objects holds every dotted prefix that is an object ("event",
	// "kibana.alert.rule"), so the decoder can tell an unknown key from a
	// path to a known field.
	objects = map[string]bool{}
)

func init() {
	for i := range fields {
		f := &fields[i]
		byID[f.ID] = f
		if f.Kind == KindExtra {
			continue
		}
		byName[f.Name] = f
		for j := 0; j < len(f.Name); j++ {
			if f.Name[j] == '.' {
				objects[f.Name[:j]] = true
			}
		}
	}
}

// Fields returns every field of Event in canonical order. The slice is shared:
// do not modify it.
func Fields() []Field { return fields }

// FieldByName returns the field with the dotted path name, or nil.
func FieldByName(name string) *Field { return byName[name] }

// FieldByID returns the field with the wire id, or nil.
func FieldByID(id uint8) *Field { return byID[id] }

// FieldNames returns every field's dotted path, sorted (ExtraFieldName,
// which is none, left out).
func FieldNames() []string {
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		if f.Kind != KindExtra {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	return names
}
