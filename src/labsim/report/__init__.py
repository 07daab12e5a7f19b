"""Layer 6, report: charts and the planner's report, drawn from saved results."""
