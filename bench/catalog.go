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

// kinds is the traffic mix of 8 providers: alerting 45%, actions 15%,
// taskManager 14%, security 8%, cases 7%, reporting 5%, fleet 4%, eventLog
// 2%, as in a Kibana running a few thousand rules. Weights sum to
// weightTotal.
var kinds = []kind{
	{"alerting", "execute", 2000, (*Generator).alertExecute},
	{"alerting", "execute-action", 800, (*Generator).alertExecuteAction},
	{"alerting", "active-instance", 900, (*Generator).alertActiveInstance},
	{"alerting", "new-instance", 300, (*Generator).alertNewInstance},
	{"alerting", "recovered-instance", 300, (*Generator).alertRecoveredInstance},
	{"alerting", "execute-timeout", 200, (*Generator).alertExecuteTimeout},
	{"actions", "execute", 1000, (*Generator).actionExecute},
	{"actions", "execute-start", 300, (*Generator).actionExecuteStart},
	{"actions", "execute-via-http", 100, (*Generator).actionExecuteViaHTTP},
	{"actions", "execute-timeout", 100, (*Generator).actionExecuteTimeout},
	{"taskManager", "run", 1000, (*Generator).taskRun},
	{"taskManager", "schedule", 200, (*Generator).taskChange},
	{"taskManager", "update", 100, (*Generator).taskChange},
	{"taskManager", "remove", 100, (*Generator).taskChange},
	{"security", "user_login", 400, (*Generator).userLogin},
	{"security", "user_logout", 200, (*Generator).userLogout},
	{"security", "api_key_create", 100, (*Generator).apiKeyCreate},
	{"security", "api_key_invalidate", 50, (*Generator).apiKeyInvalidate},
	{"security", "session_cleanup", 50, (*Generator).sessionCleanup},
	{"cases", "create", 200, (*Generator).caseChange},
	{"cases", "update", 300, (*Generator).caseChange},
	{"cases", "push", 100, (*Generator).casePush},
	{"cases", "delete", 100, (*Generator).caseChange},
	{"reporting", "generate", 200, (*Generator).reportEvent},
	{"reporting", "execute", 200, (*Generator).reportExecute},
	{"reporting", "download", 60, (*Generator).reportEvent},
	{"reporting", "delete", 40, (*Generator).reportEvent},
	{"fleet", "policy_update", 150, (*Generator).fleetEvent},
	{"fleet", "agent_enroll", 100, (*Generator).fleetEvent},
	{"fleet", "package_install", 100, (*Generator).fleetEvent},
	{"fleet", "agent_unenroll", 50, (*Generator).fleetEvent},
	{"eventLog", "starting", 60, (*Generator).eventLogLifecycle},
	{"eventLog", "stopping", 60, (*Generator).eventLogLifecycle},
	{"eventLog", "index-template-create", 40, (*Generator).eventLogLifecycle},
	{"eventLog", "ilm-policy-create", 40, (*Generator).eventLogLifecycle},
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

// spaces other than the default one: 19, for 20 with it. 70% of the
// objects live in one of them (see spaceOf).
var spaces = []string{
	"observability", "security", "marketing", "team-payments", "sales", "engineering",
	"support", "finance", "hr", "ops-eu", "ops-us", "ops-ap", "data-platform", "mobile",
	"web", "search", "infra", "legal", "research",
}

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

var appFailures = []failure{
	{"execute", "saved object [%s] not found"},
	{"conflict", "version conflict on saved object [%s]: document already exists"},
	{"forbidden", "unauthorized to access saved object [%s]"},
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
