"""Jobs: the django-q2 task functions (tasks.py), the schedules, and the run records.

The task layer is the only place that runs one stage after another."""
