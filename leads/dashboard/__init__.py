"""The admin's index as a dashboard: the report's figures (`pipeline.report`) as a funnel,
a chart per day, reply rates per message source and touch, mailbox health, what waits and
the last runs, each number a link to the filtered admin list behind it."""
