"""Real projects of the program: the canvas, the replication package, its checks and the results event."""
