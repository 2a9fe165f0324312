"""What the app does, as functions: the only place that writes to the database."""
