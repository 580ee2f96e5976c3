"""The pipeline's jobs: one package per stage or outside service, each with its `run()`.

airtable/ (sync), scrape/, generate/, engage/, inbox/ (replies, bounces and the rest
of what comes back), report/ (the figures of `manage.py report` and the admin's
dashboard, read only) and jobs/ (tasks, schedules, run records); management/ holds thin
commands over them. No stage package imports another: the task layer runs them in
order. What two stages share lives here: errors.py (the service errors' root),
summary.py (what a run reports), progress.py, message.py (the Message type and the
fallback template, which the generator stores and the engager sends when nothing was
generated) and suppression.py (the list every stage honours). Models live in `leads/`.
"""
