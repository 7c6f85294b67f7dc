// Package sinkconfig reads bluepoint.yaml, the file that declares where events go once
// they are on the streams: sinks (an archive in blob storage, or a webhook) and
// automations (on an event, optionally when a CEL condition holds, call a webhook or run a
// command).
//
// The file is checked in full at start, before anything is delivered: a typo must stop
// the process with a message naming the file, the line and the problem instead of
// silently dropping events. So every problem found is reported (errors.Join of
// *Problem), unknown keys are errors, and CEL conditions and {{ }} expressions are
// compiled at load time. The example file bluepoint.example.yaml at the repository root
// documents every option and is loaded by this package's tests.
package sinkconfig

import "time"

// Version is the only file format version this build reads. It is required in the file so
// a future incompatible format is refused instead of misread.
const Version = 1

// Sink types: where a sink delivers.
const (
	// SinkArchive batches events into objects in blob storage (file:// or s3://).
	SinkArchive = "archive"
	// SinkWebhook POSTs each matching event as a CloudEvent signed with HMAC-SHA256.
	SinkWebhook = "webhook"
)

// Archive object formats.
const (
	// FormatNDJSON is gzip-compressed newline-delimited JSON, one CloudEvent a line. It is
	// the default: readable with standard tools.
	FormatNDJSON = "ndjson"
	// FormatParquet is columnar Parquet, for analytics engines.
	FormatParquet = "parquet"
)

// Defaults and limits. The limits keep one bad setting from hurting the whole process: a
// webhook that may hang for minutes holds a consumer, endless retries keep a poison event
// in flight, and unbounded automation chains can loop forever.
const (
	// DefaultMaxEvents is an archive batch's default event count before it is written.
	DefaultMaxEvents = 1000
	// DefaultMaxBytes is an archive batch's default size (uncompressed) before it is written.
	DefaultMaxBytes = 8 << 20
	// DefaultMaxAge is how long an archive batch may wait for more events by default.
	DefaultMaxAge = time.Minute
	// DefaultTimeout bounds one webhook call unless the file says otherwise.
	DefaultTimeout = 5 * time.Second
	// MaxTimeout is the longest webhook timeout accepted.
	MaxTimeout = 60 * time.Second
	// DefaultMaxAttempts is how many times a webhook sink tries an event before the event
	// goes to the dead-letter stream.
	DefaultMaxAttempts = 5
	// MaxMaxAttempts is the largest max_attempts accepted.
	MaxMaxAttempts = 20
	// DefaultMaxDepth is how deep a chain of automations triggered by automations may go.
	DefaultMaxDepth = 3
	// MaxMaxDepth is the largest max_depth accepted.
	MaxMaxDepth = 10
)

// AllStreams returns the stream names in the order sinks default to: every sink without a
// streams list receives all of them. A new slice each call, so callers may modify it.
func AllStreams() []string {
	return []string{"users", "transactions", "catalog", "activity"}
}

// File is a checked bluepoint.yaml with every default applied, so consumers never repeat
// the defaulting rules.
type File struct {
	// Version is the file format version; always Version once loaded.
	Version int
	// Sinks in file order.
	Sinks []Sink
	// Automations in file order.
	Automations []Automation

	name string // the file name, for Resolve's errors
}

// Sink is one sinks entry. Fields that do not apply to its Type are zero.
type Sink struct {
	// Name identifies the sink (durable consumer, trace steps); unique in the file and
	// matching [a-z0-9_-]{1,64}.
	Name string
	// Type is SinkArchive or SinkWebhook.
	Type string
	// Streams the sink consumes; default AllStreams().
	Streams []string
	// Types filters events by exact event type name; empty means every type.
	Types []string
	// URL is the destination: file:// or s3:// for an archive, http(s):// for a webhook.
	URL string
	// Format of archive objects: FormatNDJSON (default) or FormatParquet.
	Format string
	// Batch bounds an archive batch; the first bound reached writes the object.
	Batch Batch
	// SecretEnv names the environment variable holding the webhook's HMAC secret. The
	// secret itself never goes in the file, which is meant to be committed.
	SecretEnv string
	// Timeout bounds one webhook call; default DefaultTimeout, at most MaxTimeout.
	Timeout time.Duration
	// MaxAttempts is how often a webhook sink tries an event before dead-lettering it;
	// default DefaultMaxAttempts, 1..MaxMaxAttempts.
	MaxAttempts int
	// Line is where the entry starts in the file, for later error messages.
	Line int
}

// Batch bounds an archive batch: it is written when any bound is reached, so an object is
// neither too big to handle nor too late for readers of the archive.
type Batch struct {
	// MaxEvents default DefaultMaxEvents, 1..1000000.
	MaxEvents int
	// MaxBytes default DefaultMaxBytes, counted before compression; the file accepts a
	// plain integer of bytes or an integer with KiB, MiB or GiB (8MiB, 512 KiB).
	MaxBytes int64
	// MaxAge default DefaultMaxAge; the file uses Go duration syntax (30s, 1m, 1h30m).
	MaxAge time.Duration
}

// Automation is one automations entry: on one of the On event types, when Condition holds
// (or always when it is empty), run the Action.
type Automation struct {
	// Name identifies the automation; unique among sinks and automations, [a-z0-9_-]{1,64}.
	Name string
	// On lists the event types (exact names) that trigger it; at least one.
	On []string
	// Condition is an optional CEL expression over the variable `event` (see CELEnv) that
	// must evaluate to bool; it has been compiled once at load time.
	Condition string
	// Action is what to do; exactly one of its fields is set.
	Action Action
	// MaxDepth stops a chain of automations triggered by automations deeper than this;
	// default DefaultMaxDepth, 1..MaxMaxDepth.
	MaxDepth int
	// Line is where the entry starts in the file.
	Line int
}

// Action is an automation's action; exactly one field is non-nil.
type Action struct {
	// Webhook POSTs the triggering event, signed like a webhook sink.
	Webhook *WebhookAction
	// Command runs a command through the command pipeline, carrying the event's trace id.
	Command *CommandAction
}

// WebhookAction calls a webhook with the triggering event. Retries and the dead-letter
// stream are those of the automation's consumer, so it has no max_attempts of its own.
type WebhookAction struct {
	// URL is http:// or https://.
	URL string
	// SecretEnv names the environment variable holding the HMAC secret.
	SecretEnv string
	// Timeout bounds the call; default DefaultTimeout, at most MaxTimeout.
	Timeout time.Duration
}

// CommandAction runs a command by name with arguments.
type CommandAction struct {
	// Name is the command's name, e.g. CreditBonus.
	Name string
	// Args are the command's arguments by name; nil when there are none.
	Args map[string]Arg
}

// Arg is one command argument: a literal from the file, or a CEL expression written as
// '{{ expr }}' that is evaluated against the triggering event when the automation runs.
type Arg struct {
	// Value is the literal (string, int64, float64, bool or nil) when Expr is empty.
	Value any
	// Expr is the CEL source between {{ and }}, trimmed; compiled once at load time.
	Expr string
}
