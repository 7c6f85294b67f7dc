// Package automation runs the automations of bluepoint.yaml: on an event of
// one of the listed types, when a CEL condition over the event holds, call a
// webhook with the event or run a command through the command pipeline.
//
// Each automation is its own durable consumer of the event streams, so it
// sees every matching event at least once, resumes after a restart, and
// parks an event it cannot handle in the dead-letter stream instead of
// blocking the ones behind it.
//
// At least once must not mean twice in effect: a command carries the
// idempotency key "automation:<name>:<event id>", so a redelivered event
// replays the stored result instead of applying the command again. The
// command also carries the event's trace id, the event as its causation and
// the event's depth plus one; an automation ignores (and records) events
// whose depth reached its max_depth, which stops automations that trigger
// each other from looping forever.
//
// Every outcome is recorded as a trace step "automation.<name>" against the
// event's trace id (applied, rejected, delivered, retried, failed,
// dead-lettered, stopped), except a condition that does not hold, which
// would drown the trace in noise.
package automation
