package eventstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

func TestStepsByTraceOneStepPerTrace(t *testing.T) {
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	steps := eventstore.StepsByTrace("relay", "published", at, []eventstore.TracedEvent{
		{TraceID: "b", Detail: "B1"},
		{TraceID: "a", Detail: "A1"},
		{TraceID: "", Detail: "untraced"},
		{TraceID: "b", Detail: "B2"},
		{TraceID: "b", Detail: "B3"},
		{TraceID: "a", Detail: "A2"},
	})
	want := []eventstore.TraceStep{
		{TraceID: "b", Step: "relay", Status: "published", Detail: "B1, B2, B3", At: at},
		{TraceID: "a", Step: "relay", Status: "published", Detail: "A1, A2", At: at},
	}
	if len(steps) != len(want) {
		t.Fatalf("%d steps, want %d: %+v", len(steps), len(want), steps)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("step %d: %+v, want %+v", i, steps[i], want[i])
		}
	}
}

func TestStepsByTraceSplitsLongLists(t *testing.T) {
	var events []eventstore.TracedEvent
	for range 120 {
		events = append(events, eventstore.TracedEvent{TraceID: "t", Detail: "E"})
	}
	steps := eventstore.StepsByTrace("projection.users", "applied", time.Time{}, events)
	var sizes []int
	for _, st := range steps {
		sizes = append(sizes, len(strings.Split(st.Detail, ", ")))
	}
	if len(sizes) != 3 || sizes[0] != 50 || sizes[1] != 50 || sizes[2] != 20 {
		t.Fatalf("events per step %v, want [50 50 20]", sizes)
	}
}
