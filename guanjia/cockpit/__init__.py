"""Leader cockpit (驾驶舱): KPIs, rankings and briefings (周报/月报), all read from guanjia.appeals.kpi."""
