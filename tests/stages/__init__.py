"""Stand-in stages for the task tests, passed to `tasks.run_steps(...)` inside a `Step`.

They keep the stage interface (`run(*, limit, dry_run, progress, **options)`)
so the pipeline's isolation can be checked before, and apart from, the real stages.
"""
