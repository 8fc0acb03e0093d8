package bench

import "github.com/eventlogdb/eventlog/event"

// kind is one provider/action pair the generator emits, with its share of the
// traffic and the function that fills in its fields.
type kind struct {
	provider, action string
	// weight is the share of events, out of weightTotal.
	weight int
	build  func(g *Generator, e *event.Event, o outcome)
}

// weightTotal is the sum of every kind's weight.
const weightTotal = 10_000

// kinds is the traffic mix: rule executions and action executions dominate,
// as in a Kibana running a few thousand rules; security events are a few
// percent. Weights sum to weightTotal.
var kinds = []kind{
	{"alerting", "execute", 3050, (*Generator).alertExecute},
	{"actions", "execute", 2400, (*Generator).actionExecute},
	{"alerting", "execute-action", 1200, (*Generator).alertExecuteAction},
	{"alerting", "active-instance", 1000, (*Generator).alertActiveInstance},
	{"alerting", "new-instance", 300, (*Generator).alertNewInstance},
	{"alerting", "recovered-instance", 300, (*Generator).alertRecoveredInstance},
	{"actions", "execute-via-http", 100, (*Generator).actionExecuteViaHTTP},
	{"taskManager", "run", 1000, (*Generator).taskRun},
	{"security", "user_login", 400, (*Generator).userLogin},
	{"security", "user_logout", 200, (*Generator).userLogout},
	{"security", "api_key_create", 40, (*Generator).apiKeyCreate},
	{"eventLog", "starting", 5, (*Generator).eventLogLifecycle},
	{"eventLog", "stopping", 5, (*Generator).eventLogLifecycle},
}

// ProviderActions returns every provider the generator emits, each with its
// actions, for registering with the store before appending.
func ProviderActions() map[string][]string {
	m := make(map[string][]string)
	for _, k := range kinds {
		m[k.provider] = append(m[k.provider], k.action)
	}
	return m
}

// ruleType describes one Kibana rule type: its id, the consumer (which tags
// carry) and producer (event.category), its action group, how its alert
// instances are named and the names its rules get.
type ruleType struct {
	id, consumer, producer string
	group, instance        string
	names                  []string
}

// ruleTypes are drawn per rule by a hash of its index; earlier ones are more
// common (see ruleTypeOf).
var ruleTypes = []ruleType{
	{".index-threshold", "alerts", "stackAlerts", "threshold met", "host-",
		[]string{"cpu over 90%", "disk usage high", "heap above 85%", "queue backlog", "memory pressure"}},
	{".es-query", "alerts", "stackAlerts", "query matched", "query matched ",
		[]string{"5xx responses", "payment errors", "login failures", "slow queries"}},
	{"metrics.alert.threshold", "infrastructure", "infrastructure", "metrics.threshold.fired", "host-",
		[]string{"pod restarts", "load average", "network saturation"}},
	{"logs.alert.document.count", "logs", "logs", "logs.threshold.fired", "service-",
		[]string{"error log burst", "no logs from ingest"}},
	{"apm.error_rate", "apm", "apm", "threshold_met", "service-",
		[]string{"checkout error rate", "api latency p99"}},
	{"xpack.uptime.alerts.monitorStatus", "uptime", "uptime", "xpack.uptime.alerts.actionGroups.monitorStatus", "monitor-",
		[]string{"site down", "tls expiry"}},
	{"siem.queryRule", "siem", "siem", "default", "signal-",
		[]string{"suspicious powershell", "brute force ssh", "new admin user"}},
	{"xpack.ml.anomaly_detection_alert", "ml", "ml", "anomaly_score_match", "job-",
		[]string{"unusual traffic", "rare process"}},
}

// connectorTypes are the action types, drawn per connector by a hash of its
// index; earlier ones are more common.
var connectorTypes = []struct{ id, name string }{
	{".slack", "ops-slack"},
	{".email", "oncall-email"},
	{".webhook", "incident-webhook"},
	{".pagerduty", "pagerduty-prod"},
	{".server-log", "server-log"},
	{".index", "alerts-history-index"},
	{".teams", "teams-sre"},
	{".jira", "jira-ops"},
}

// spaces other than the default one; one object in five lives in one of
// them.
var spaces = []string{"observability", "security", "marketing", "team-payments"}

// fixedUsers head the user pool; the rest are userNNN.
var fixedUsers = []string{"elastic", "admin", "jdoe", "asmith", "kibana-ops", "mlee", "svc-reporting", "rgarcia"}

// userPool is the number of distinct user names.
const userPool = 500

// serverPool is the number of Kibana instances writing events.
const serverPool = 4

// failure describes one way an operation fails: the reason Kibana records in
// event.reason and the error message.
type failure struct{ reason, message string }

var ruleFailures = []failure{
	{"execute", "search_phase_execution_exception: all shards failed"},
	{"execute", "Request timed out"},
	{"read", "Saved object [alert/%s] not found"},
	{"decrypt", "Unable to decrypt attribute \"apiKey\""},
	{"license", "Rule type is disabled because your basic license does not support it"},
	{"timeout", "rule execution cancelled due to timeout: exceeded rule type timeout of 5m"},
	{"validate", "params invalid: [threshold]: must have two elements for the \"between\" comparator"},
}

var instanceFailures = []failure{
	{"persist", "failed to persist alert '%s': version_conflict_engine_exception"},
	{"persist", "failed to persist alert '%s': es_rejected_execution_exception"},
}

var actionFailures = []failure{
	{"execute", "error posting slack message: 429 Too Many Requests"},
	{"execute", "error sending email: connect ETIMEDOUT 10.12.0.4:587"},
	{"execute", "error calling webhook, retry later: 503 Service Unavailable"},
	{"execute", "error posting pagerduty event: unexpected status 400"},
	{"decrypt", "Unable to decrypt attribute \"secrets\""},
}

var taskFailures = []failure{
	{"execute", "task run failed: Request timed out"},
	{"execute", "task run failed: no_shard_available_action_exception"},
	{"timeout", "task timed out after 5m"},
}

var securityFailures = []failure{
	{"invalid credentials", "unable to authenticate user [%s] for REST request [/internal/security/login]"},
	{"account disabled", "user [%s] is disabled"},
	{"session expired", "session for user [%s] has expired"},
}

// taskTypes run by taskManager/run events that are not rule or action runs.
var taskTypes = []string{
	"reports:monitor", "Fleet-Usage-Sender", "endpoint:metadata-check-transforms-task",
	"apm-telemetry-task", "actions:connector_usage_reporting", "session_cleanup",
	"alerts_invalidate_api_keys", "dashboard_telemetry",
}
