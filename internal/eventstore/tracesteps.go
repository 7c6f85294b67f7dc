package eventstore

import (
	"strings"
	"time"
)

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
	var (
		steps []TraceStep
		open  = map[string]int{} // trace -> its step still taking details
		count = map[string]int{} // trace -> events in that step
	)
	for _, e := range events {
		if e.TraceID == "" {
			continue
		}
		i, ok := open[e.TraceID]
		if !ok || count[e.TraceID] == maxMergedEvents {
			steps = append(steps, TraceStep{TraceID: e.TraceID, Step: step, Status: status, Detail: e.Detail, At: at})
			open[e.TraceID], count[e.TraceID] = len(steps)-1, 1
			continue
		}
		var b strings.Builder
		b.WriteString(steps[i].Detail)
		b.WriteString(", ")
		b.WriteString(e.Detail)
		steps[i].Detail = b.String()
		count[e.TraceID]++
	}
	return steps
}
