"""The only place threads and processes are started."""
