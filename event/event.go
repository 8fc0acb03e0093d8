// Package event defines the event eventlog stores: the Kibana event log
// document (an ECS 1.8 subset plus the kibana field set) with ECS labels and
// the common audit fields, its strict JSON decoding and canonical encoding,
// validation limits, timing helpers, and the compact binary form the WAL and
// the head keep.
//
// Values come back exactly as they arrived: dates keep their text (precision
// and offset), event.duration keeps whether it was a number or a string, and a
// string list keeps whether it was a single string. An empty string is the
// same as an absent field and is not returned.
//
// Decode is strict, as Kibana is: a key outside the schema is an error.
// DecodeWith with KeepUnknown keeps such keys instead, in Event.Extra, a
// compact tree returned in place by AppendJSON and searchable by dotted path
// (Extra.Lookup); see FORMAT.md, "Kept unknown fields".
package event

// Event is one event document. The zero value is an empty event; every field
// is optional. Field tags give the JSON path of each field.
type Event struct {
	Timestamp   Date              `json:"@timestamp,omitzero"`
	Message     string            `json:"message,omitempty"`
	Tags        StringList        `json:"tags,omitzero"`
	Labels      map[string]string `json:"labels,omitempty"`
	ECS         ECS               `json:"ecs,omitzero"`
	Error       Error             `json:"error,omitzero"`
	Event       EventFields       `json:"event,omitzero"`
	Log         Log               `json:"log,omitzero"`
	Rule        Rule              `json:"rule,omitzero"`
	User        User              `json:"user,omitzero"`
	Kibana      Kibana            `json:"kibana,omitzero"`
	Source      Endpoint          `json:"source,omitzero"`
	Client      Endpoint          `json:"client,omitzero"`
	Host        Host              `json:"host,omitzero"`
	Service     Service           `json:"service,omitzero"`
	Trace       TraceID           `json:"trace,omitzero"`
	Transaction TraceID           `json:"transaction,omitzero"`
	Span        TraceID           `json:"span,omitzero"`
	UserAgent   UserAgent         `json:"user_agent,omitzero"`
	URL         URL               `json:"url,omitzero"`
	HTTP        HTTP              `json:"http,omitzero"`

	// ClientID is the id the client gave the event (JSON "_id" beside its
	// fields): what makes a retried append safe (the store deduplicates
	// on it; see eventlog.AppendResult). It is a namespace of its own,
	// separate from the engine's ids (hex of the sequence number), and at
	// most MaxClientIDBytes long.
	ClientID string `json:"_id,omitempty"`
	// Index is the Elasticsearch index or data stream the document was
	// sent to (JSON "_index"): an engine field beside "_id" and "_seq",
	// kept apart from the user's labels, indexed and filterable
	// (_index:logs-foo).
	Index string `json:"_index,omitempty"`
	// Extra holds the fields outside the schema that DecodeWith kept
	// (KeepUnknown). AppendJSON writes them in place; encoding/json does
	// not know them.
	Extra Extra `json:"-"`
}

// MaxClientIDBytes bounds a client id, as Elasticsearch bounds its _id.
const MaxClientIDBytes = 512

// Engine field names: the JSON keys beside an event's own fields that the
// engine gives meaning to. "_seq" is the engine's sequence number: Decode
// accepts and ignores it, so a document the store printed re-imports.
const (
	ClientIDField = "_id"
	IndexField    = "_index"
	SeqField      = "_seq"
)

// ECS is the ecs field set.
type ECS struct {
	Version string `json:"version,omitempty"`
}

// Error is the ECS error field set.
type Error struct {
	Code       string `json:"code,omitempty"`
	ID         string `json:"id,omitempty"`
	Message    string `json:"message,omitempty"`
	StackTrace string `json:"stack_trace,omitempty"`
	Type       string `json:"type,omitempty"`
}

// EventFields is the ECS event field set (JSON "event").
type EventFields struct {
	Action        string     `json:"action,omitempty"`
	Category      StringList `json:"category,omitzero"`
	Code          string     `json:"code,omitempty"`
	Created       Date       `json:"created,omitzero"`
	Dataset       string     `json:"dataset,omitempty"`
	Duration      *Duration  `json:"duration,omitempty"`
	End           Date       `json:"end,omitzero"`
	Hash          string     `json:"hash,omitempty"`
	ID            string     `json:"id,omitempty"`
	Ingested      Date       `json:"ingested,omitzero"`
	Kind          string     `json:"kind,omitempty"`
	Module        string     `json:"module,omitempty"`
	Original      string     `json:"original,omitempty"`
	Outcome       string     `json:"outcome,omitempty"`
	Provider      string     `json:"provider,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	Reference     string     `json:"reference,omitempty"`
	RiskScore     *float64   `json:"risk_score,omitempty"`
	RiskScoreNorm *float64   `json:"risk_score_norm,omitempty"`
	Sequence      *int64     `json:"sequence,omitempty"`
	Severity      *int64     `json:"severity,omitempty"`
	Start         Date       `json:"start,omitzero"`
	Timezone      string     `json:"timezone,omitempty"`
	Type          StringList `json:"type,omitzero"`
	URL           string     `json:"url,omitempty"`
}

// Log is the ECS log field set (level and logger only).
type Log struct {
	Level  string `json:"level,omitempty"`
	Logger string `json:"logger,omitempty"`
}

// Rule is the ECS rule field set.
type Rule struct {
	Author      StringList `json:"author,omitzero"`
	Category    string     `json:"category,omitempty"`
	Description string     `json:"description,omitempty"`
	ID          string     `json:"id,omitempty"`
	License     string     `json:"license,omitempty"`
	Name        string     `json:"name,omitempty"`
	Reference   string     `json:"reference,omitempty"`
	Ruleset     string     `json:"ruleset,omitempty"`
	UUID        string     `json:"uuid,omitempty"`
	Version     string     `json:"version,omitempty"`
}

// User is the ECS user field set as audit events use it.
type User struct {
	Name     string     `json:"name,omitempty"`
	ID       string     `json:"id,omitempty"`
	Email    string     `json:"email,omitempty"`
	FullName string     `json:"full_name,omitempty"`
	Roles    StringList `json:"roles,omitzero"`
}

// Kibana is the kibana field set of the Kibana event log.
type Kibana struct {
	ServerUUID   string        `json:"server_uuid,omitempty"`
	Namespace    string        `json:"namespace,omitempty"`
	Version      string        `json:"version,omitempty"`
	SpaceIDs     StringList    `json:"space_ids,omitzero"`
	Task         Task          `json:"task,omitzero"`
	Alerting     Alerting      `json:"alerting,omitzero"`
	Alert        Alert         `json:"alert,omitzero"`
	SavedObjects []SavedObject `json:"saved_objects,omitempty"`
}

// Task is kibana.task.
type Task struct {
	ID            string `json:"id,omitempty"`
	Scheduled     Date   `json:"scheduled,omitzero"`
	ScheduleDelay *int64 `json:"schedule_delay,omitempty"`
}

// Alerting is kibana.alerting.
type Alerting struct {
	InstanceID     string `json:"instance_id,omitempty"`
	ActionGroupID  string `json:"action_group_id,omitempty"`
	ActionSubgroup string `json:"action_subgroup,omitempty"`
	Status         string `json:"status,omitempty"`
}

// Alert is kibana.alert.
type Alert struct {
	Rule AlertRule `json:"rule,omitzero"`
}

// AlertRule is kibana.alert.rule.
type AlertRule struct {
	Consumer   string    `json:"consumer,omitempty"`
	RuleTypeID string    `json:"rule_type_id,omitempty"`
	Execution  Execution `json:"execution,omitzero"`
}

// Execution is kibana.alert.rule.execution.
type Execution struct {
	UUID        string           `json:"uuid,omitempty"`
	Status      string           `json:"status,omitempty"`
	StatusOrder *int64           `json:"status_order,omitempty"`
	Metrics     ExecutionMetrics `json:"metrics,omitzero"`
}

// ExecutionMetrics is kibana.alert.rule.execution.metrics.
type ExecutionMetrics struct {
	NumberOfTriggeredActions *int64 `json:"number_of_triggered_actions,omitempty"`
	NumberOfScheduledActions *int64 `json:"number_of_scheduled_actions,omitempty"`
	NumberOfNewAlerts        *int64 `json:"number_of_new_alerts,omitempty"`
	NumberOfActiveAlerts     *int64 `json:"number_of_active_alerts,omitempty"`
	NumberOfRecoveredAlerts  *int64 `json:"number_of_recovered_alerts,omitempty"`
	NumberOfSearches         *int64 `json:"number_of_searches,omitempty"`
	TotalIndexingDurationMs  *int64 `json:"total_indexing_duration_ms,omitempty"`
	ESSearchDurationMs       *int64 `json:"es_search_duration_ms,omitempty"`
	TotalSearchDurationMs    *int64 `json:"total_search_duration_ms,omitempty"`
	ExecutionGapDurationS    *int64 `json:"execution_gap_duration_s,omitempty"`
}

// SavedObject is one element of kibana.saved_objects: a reference to a Kibana
// saved object the event concerns.
type SavedObject struct {
	Rel       string `json:"rel,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	ID        string `json:"id,omitempty"`
	Type      string `json:"type,omitempty"`
	TypeID    string `json:"type_id,omitempty"`
}

// RelPrimary is the rel value that makes an event findable through a ref.
const RelPrimary = "primary"

// DefaultSpace is the space of a ref without a namespace.
const DefaultSpace = "default"

// Space returns the ref's space: its namespace, or DefaultSpace when absent.
func (r SavedObject) Space() string {
	if r.Namespace == "" {
		return DefaultSpace
	}
	return r.Namespace
}

// Primary reports whether the ref has rel "primary".
func (r SavedObject) Primary() bool { return r.Rel == RelPrimary }

// Endpoint is the ECS source or client field set (the address only).
type Endpoint struct {
	IP string `json:"ip,omitempty"`
}

// Host is the ECS host field set (the name only).
type Host struct {
	Name string `json:"name,omitempty"`
}

// Service is the ECS service field set.
type Service struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// TraceID is the ECS trace, transaction or span field set (the id only).
type TraceID struct {
	ID string `json:"id,omitempty"`
}

// UserAgent is the ECS user_agent field set.
type UserAgent struct {
	Original string `json:"original,omitempty"`
}

// URL is the ECS url field set.
type URL struct {
	Original string `json:"original,omitempty"`
}

// HTTP is the ECS http field set.
type HTTP struct {
	Request  HTTPRequest  `json:"request,omitzero"`
	Response HTTPResponse `json:"response,omitzero"`
}

// HTTPRequest is http.request.
type HTTPRequest struct {
	Method string `json:"method,omitempty"`
}

// HTTPResponse is http.response.
type HTTPResponse struct {
	StatusCode *int64 `json:"status_code,omitempty"`
}
