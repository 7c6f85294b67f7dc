package eventstore

import "time"

// maxMergedEvents is the most events one merged trace step lists.
const maxMergedEvents = 50

// TracedEvent is what a part did to one event, under the event's trace.
type TracedEvent struct {
	TraceID string
	Detail  string
}

// StepsByTrace makes the trace steps of one batch of a part (the relay, a
// read model): one step per trace, listing its events' details joined by
// ", " in batch order (at most 50 to a step), the traces in the order they
// first appear. Events without a trace id have no step. A batch takes a
// command's events together, and a step per event multiplied each
// command's trace rows by its events, a third of the rows every command
// wrote.
func StepsByTrace(step, status string, at time.Time, events []TracedEvent) []TraceStep {
	type open struct{ step, events int } // a trace's step still taking details
	var steps []TraceStep
	byTrace := map[string]*open{}
	for _, e := range events {
		if e.TraceID == "" {
			continue
		}
		o := byTrace[e.TraceID]
		if o == nil || o.events == maxMergedEvents {
			steps = append(steps, TraceStep{TraceID: e.TraceID, Step: step, Status: status, Detail: e.Detail, At: at})
			byTrace[e.TraceID] = &open{step: len(steps) - 1, events: 1}
			continue
		}
		steps[o.step].Detail += ", " + e.Detail
		o.events++
	}
	return steps
}
