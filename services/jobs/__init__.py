"""Long work on the task queue (Huey): batch application now; see services/jobs/queue.py."""
