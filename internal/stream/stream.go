package stream

import (
	"fmt"
	"slices"
	"strings"
)

// The streams events are grouped into. Each is one JetStream stream whose
// subjects are "bluepoint.<stream>.<EventType>", so a consumer can follow a
// whole area of the domain, in order, or filter it by event type.
const (
	// Users holds account lifecycle events.
	Users = "users"
	// Transactions holds interactions, donations, giveaways and redemptions.
	Transactions = "transactions"
	// Catalog holds products and business rules.
	Catalog = "catalog"
	// Activity holds events recorded from outside the platform.
	Activity = "activity"
	// DeadLetterStream holds messages that consumers gave up on, under
	// "bluepoint.deadletter.<consumer>".
	DeadLetterStream = "deadletter"
)

// subjectRoot starts every subject, so the platform's traffic is easy to tell
// apart on a shared server.
const subjectRoot = "bluepoint"

// eventStreams are the streams that events are published to.
var eventStreams = []string{Users, Transactions, Catalog, Activity}

// categoryStreams maps event-store stream categories to streams. Keeping all
// of a category's events on one stream keeps each aggregate's events in order.
var categoryStreams = map[string]string{
	"account":      Users,
	"donation":     Transactions,
	"giveaway":     Transactions,
	"redemption":   Transactions,
	"acquaintance": Transactions,
	"interaction":  Transactions,
	"product":      Catalog,
	"rule":         Catalog,
	"activity":     Activity,
}

// StreamFor returns the stream that events of an event-store category go to,
// and false for a category no stream carries: publishing such an event is a
// programming error, not something to drop silently.
func StreamFor(category string) (string, bool) {
	s, ok := categoryStreams[category]
	return s, ok
}

// Subject returns "bluepoint.<stream>.<EventType>", the subject an event of
// that type is published on (without a broker's Config.Prefix).
func Subject(stream, eventType string) string {
	return subjectRoot + "." + stream + "." + eventType
}

// checkToken reports whether s can be one token of a subject (or a durable
// name): not empty, and free of the characters NATS gives a meaning to.
func checkToken(what, s string) error {
	if s == "" {
		return fmt.Errorf("stream: %s is empty", what)
	}
	if strings.ContainsAny(s, ".*> \t\r\n/\\") {
		return fmt.Errorf("stream: %s %q must not contain '.', '*', '>', '/', '\\' or white space", what, s)
	}
	return nil
}

// isEventStream reports whether s is one of the event streams.
func isEventStream(s string) bool {
	for _, e := range eventStreams {
		if e == s {
			return true
		}
	}
	return false
}

// EventStreams lists the four event streams.
func EventStreams() []string { return slices.Clone(eventStreams) }

// Categories returns the event-store categories whose events go to stream,
// sorted: what a reader of the store must select to see that stream's events.
func Categories(stream string) []string {
	var out []string
	for cat, s := range categoryStreams {
		if s == stream {
			out = append(out, cat)
		}
	}
	slices.Sort(out)
	return out
}
