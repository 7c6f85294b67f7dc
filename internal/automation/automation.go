package automation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/sinkconfig"
	"github.com/bluepoint/bluepoint/internal/stream"
	"github.com/bluepoint/bluepoint/internal/webhook"
)

// MaxDeliver is how often an automation's consumer tries an event before it
// parks it in the dead-letter stream: enough to ride out a short outage of a
// webhook receiver or the database, few enough that a poison event does not
// hold the automation's stream for long.
const MaxDeliver = 5

// ConsumerPrefix starts the durable consumer name of every automation
// ("automation-<name>"), so its consumers and dead letters are easy to tell
// apart from those of sinks and projections.
const ConsumerPrefix = "automation-"

// StepPrefix starts the trace step name of every automation
// ("automation.<name>"), in line with "command.<Name>" and "relay".
const StepPrefix = "automation."

// Trace step statuses an automation records.
const (
	// StatusApplied: the command ran (or replayed its stored result).
	StatusApplied = "applied"
	// StatusRejected: the domain refused the command; it is not retried,
	// since the same decision would come again.
	StatusRejected = "rejected"
	// StatusDelivered: the webhook receiver accepted the event.
	StatusDelivered = "delivered"
	// StatusRetried: the attempt failed in a way that may pass later; the
	// event will be delivered again.
	StatusRetried = "retried"
	// StatusFailed: the attempt failed and retrying is unlikely to help
	// (the runtime still retries until its attempts are used up).
	StatusFailed = "failed"
	// StatusDeadLettered: the last attempt failed; the event is parked in
	// the dead-letter stream for a person to look at.
	StatusDeadLettered = "dead-lettered"
	// StatusStopped: the event's automation depth reached the limit, so
	// the automation did nothing.
	StatusStopped = "stopped"
)

// Commander runs a named command for an automation; *service.Service is one.
// It is an interface so the runner does not depend on how commands are
// dispatched.
type Commander interface {
	RunCommand(ctx context.Context, call service.Call, name string, args map[string]any) (*command.Outcome, error)
}

// Config is what a Runner is built from.
type Config struct {
	// Broker delivers the events. Required.
	Broker *stream.Broker
	// Store records the trace steps. Required.
	Store eventstore.Store
	// Commands runs command actions. Required when an automation has one.
	Commands Commander
	// Automations to run, as loaded by sinkconfig.
	Automations []sinkconfig.Automation
	// Getenv reads the webhook actions' secrets; default os.Getenv.
	Getenv func(string) string
	// HTTPClient sends webhook requests; nil means the default transport.
	HTTPClient *http.Client
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Backoff are the delays between attempts; empty means the stream
	// runtime's default. Tests shorten it.
	Backoff []time.Duration
}

// Runner runs the automations. Build it with New, then Start and Stop it once.
type Runner struct {
	cfg   Config
	autos []*compiled

	mu        sync.Mutex
	started   bool
	cancel    context.CancelFunc
	consumers []*stream.Consumer
}

// validName is what sinkconfig accepts as a name; it is checked again for
// automations built by hand, since the name becomes a consumer name.
var validName = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// New checks the config, compiles every condition and {{ }} argument once and
// reads the webhook secrets, so that a broken automation stops the start with
// an error naming it instead of failing on every event.
func New(cfg Config) (*Runner, error) {
	if cfg.Broker == nil {
		return nil, errors.New("automation: a broker is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("automation: a store is required")
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Runner{cfg: cfg}
	seen := map[string]bool{}
	var errs []error
	for _, a := range cfg.Automations {
		if seen[a.Name] {
			errs = append(errs, fmt.Errorf("automation %q: the name is used twice", a.Name))
			continue
		}
		seen[a.Name] = true
		c, err := r.compile(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("automation %q: %w", a.Name, err))
			continue
		}
		r.autos = append(r.autos, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// compile checks one automation and prepares what its handler needs.
func (r *Runner) compile(a sinkconfig.Automation) (*compiled, error) {
	if !validName.MatchString(a.Name) {
		return nil, errors.New("the name must be 1 to 64 of a-z, 0-9, _ and -")
	}
	if len(a.On) == 0 {
		return nil, errors.New("no event types in on")
	}
	if a.MaxDepth == 0 {
		a.MaxDepth = sinkconfig.DefaultMaxDepth
	}
	if a.MaxDepth < 0 {
		return nil, fmt.Errorf("max_depth %d is negative", a.MaxDepth)
	}
	c := &compiled{Automation: a, step: StepPrefix + a.Name}
	if a.Condition != "" {
		prg, err := compileExpr(a.Condition, true)
		if err != nil {
			return nil, fmt.Errorf("condition: %w", err)
		}
		c.condition = prg
	}
	switch act := a.Action; {
	case (act.Command == nil) == (act.Webhook == nil):
		return nil, errors.New("the action must be exactly one of webhook and command")
	case act.Command != nil:
		if r.cfg.Commands == nil {
			return nil, errors.New("runs a command but no command runner is configured")
		}
		if act.Command.Name == "" {
			return nil, errors.New("the command has no name")
		}
		args, err := compileArgs(act.Command.Args)
		if err != nil {
			return nil, err
		}
		c.args = args
	default:
		secret := r.cfg.Getenv(act.Webhook.SecretEnv)
		if act.Webhook.SecretEnv == "" || secret == "" {
			return nil, fmt.Errorf("environment variable %q is not set; it must hold the webhook's HMAC secret", act.Webhook.SecretEnv)
		}
		c.sender = &webhook.Sender{Client: r.cfg.HTTPClient, Secret: []byte(secret), Timeout: act.Webhook.Timeout}
	}
	return c, nil
}

// Start starts one durable consumer per automation on every event stream,
// filtered to its event types. A consumer resumes where the previous run of
// the same automation stopped; a new one starts at the beginning of the
// streams. The automations run until Stop, not until ctx ends, so that
// Stop can let the events in hand finish.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("automation: the runner was started already")
	}
	r.started = true
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	for _, a := range r.autos {
		c, err := r.cfg.Broker.Consume(runCtx, stream.ConsumerConfig{
			Name:        ConsumerPrefix + a.Name,
			Streams:     sinkconfig.AllStreams(),
			FilterTypes: slices.Clone(a.On),
			MaxDeliver:  MaxDeliver,
			Backoff:     r.cfg.Backoff,
		}, r.handler(a))
		if err != nil {
			cancel()
			for _, started := range r.consumers {
				_ = started.Stop()
			}
			r.consumers = nil
			return fmt.Errorf("automation %q: %w", a.Name, err)
		}
		r.consumers = append(r.consumers, c)
	}
	return nil
}

// Stop stops the consumers and waits for the events in hand to finish. When
// ctx ends first, the handlers still running are cancelled (their events
// come back on the next start) and ctx's error is returned.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	consumers, cancel := r.consumers, r.cancel
	r.consumers = nil
	r.mu.Unlock()
	if cancel == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, c := range consumers {
			_ = c.Stop()
		}
	}()
	select {
	case <-done:
		cancel()
		return nil
	case <-ctx.Done():
		cancel()
		<-done
		return fmt.Errorf("automation: stop: %w", ctx.Err())
	}
}
