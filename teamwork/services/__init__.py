"""Every change of the team side: duties and their ticks, goals, award rounds. Each is atomic,
audited and checks its capability; one module per concern."""
