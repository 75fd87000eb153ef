package prometheus

// Metric names are the public interface that alert rules and dashboards under
// deploy/ are written against; a test there checks every name they use is one
// of these, so a rename here cannot silently break an alert.
const (
	MetricFlowSuccess     = "uxprobe_flow_success"
	MetricFlowDuration    = "uxprobe_flow_duration_seconds"
	MetricFlowRuns        = "uxprobe_flow_runs_total"
	MetricFlowFailures    = "uxprobe_flow_failures_total"
	MetricFlowLastFailure = "uxprobe_flow_last_failure_info"
	MetricFlowLastRun     = "uxprobe_flow_last_run_timestamp_seconds"
	MetricStepDuration    = "uxprobe_step_duration_seconds"
	MetricPageTTFB        = "uxprobe_page_ttfb_seconds"
	MetricPageFCP         = "uxprobe_page_fcp_seconds"
	MetricPageLCP         = "uxprobe_page_lcp_seconds"
	MetricPageLoad        = "uxprobe_page_load_seconds"
	MetricPageCLS         = "uxprobe_page_cls"
	MetricPageINP         = "uxprobe_page_inp_seconds"
	MetricPageTBT         = "uxprobe_page_tbt_seconds"
	MetricStepInteraction = "uxprobe_step_interaction_seconds"
	MetricConsoleErrors   = "uxprobe_console_errors_total"
	MetricFailedRequests  = "uxprobe_failed_requests_total"
	MetricCleanupFailures = "uxprobe_cleanup_failures_total"
	MetricAuditFindings   = "uxprobe_audit_findings"
	// MetricAccessibilityViolations is elements at fault by axe impact.
	MetricAccessibilityViolations = "uxprobe_accessibility_violations"
	// MetricVisualDiffRatio is an assert_screenshot step's share of
	// changed pixels.
	MetricVisualDiffRatio = "uxprobe_visual_diff_ratio"
)

// MetricBuildInfo is the build info of the agent. It comes from
// client_golang's version collector, registered by the command, and is
// named here so that checks of rules and dashboards know it.
const MetricBuildInfo = "uxprobe_build_info"

// MetricNames lists every metric family of the flows' results, and the build
// info, for checks of rules and dashboards against what really exists; the
// agent's health metrics are agent.MetricNames.
func MetricNames() []string {
	return []string{
		MetricFlowSuccess, MetricFlowDuration, MetricFlowRuns, MetricFlowFailures,
		MetricFlowLastFailure, MetricCleanupFailures,
		MetricFlowLastRun, MetricStepDuration, MetricPageTTFB, MetricPageFCP,
		MetricPageLCP, MetricPageLoad, MetricPageCLS, MetricPageINP, MetricPageTBT,
		MetricStepInteraction, MetricConsoleErrors, MetricFailedRequests, MetricBuildInfo,
		MetricAuditFindings, MetricAccessibilityViolations, MetricVisualDiffRatio,
	}
}
