package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/projection"
	"github.com/bluepoint/bluepoint/internal/readmodel/features"
	"github.com/bluepoint/bluepoint/internal/stream"
)

// Ops is what the operations routes read from the stream engine and the
// projection runner.
type Ops interface {
	Streams(ctx context.Context) (StreamsReport, error)
	// DeadLetters returns a page of parked events and the cursor of the
	// next page, "" after the last.
	DeadLetters(ctx context.Context, p *stream.DeadLetterPageParams) ([]stream.DeadLetter, string, error)
	Redrive(ctx context.Context, seq uint64) error
}

// StreamsReport is the state of the streams, their consumers and the
// projections fed by them.
type StreamsReport struct {
	Streams     []StreamInfo        `json:"streams"`
	Consumers   []ConsumerInfo      `json:"consumers"`
	Projections []projection.Status `json:"projections"`
}

// StreamInfo is one stream of the engine.
type StreamInfo struct {
	Name      string    `json:"name"`
	Messages  uint64    `json:"messages"`
	Bytes     uint64    `json:"bytes"`
	FirstSeq  uint64    `json:"first_seq"`
	LastSeq   uint64    `json:"last_seq"`
	LastAt    time.Time `json:"last_at"`
	Consumers int       `json:"consumers"`
}

// ConsumerInfo is one durable consumer and how far behind it is.
type ConsumerInfo struct {
	Stream      string `json:"stream"`
	Name        string `json:"name"`
	Pending     uint64 `json:"pending" doc:"Messages not yet delivered: the lag."`
	AckPending  int    `json:"ack_pending" doc:"Delivered, not yet acknowledged."`
	Redelivered int    `json:"redelivered"`
}

// TraceView is one request's journey, step by step.
type TraceView struct {
	TraceID string      `json:"trace_id"`
	Steps   []TraceStep `json:"steps"`
}

// TraceStep is one step of a trace.
type TraceStep struct {
	Step   string    `json:"step"`
	Status string    `json:"status"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// DeadLetterView is a message a consumer gave up on.
type DeadLetterView struct {
	ID        uint64    `json:"id" doc:"Pass it to the redrive route."`
	Consumer  string    `json:"consumer"`
	Error     string    `json:"error"`
	Stream    string    `json:"stream"`
	Attempts  int       `json:"attempts"`
	EventID   string    `json:"event_id,omitempty"`
	EventType string    `json:"event_type,omitempty"`
	StreamID  string    `json:"stream_id,omitempty"`
	At        time.Time `json:"at"`
}

type traceInput struct {
	TraceID string `path:"trace_id" maxLength:"64"`
}

type deadLettersInput struct {
	Consumer string `query:"consumer" maxLength:"200" doc:"Only this consumer's."`
	Limit    int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"At most this many items."`
	Cursor   string `query:"cursor" maxLength:"500" doc:"The next_cursor of the previous page."`
}

type redriveInput struct {
	Idempotent
	ID uint64 `path:"id"`
}

type redriven struct {
	ID       uint64 `json:"id"`
	Redriven bool   `json:"redriven"`
}

type exportInput struct {
	Format string `query:"format" enum:"csv,parquet" default:"csv"`
}

func (s *Server) opsRoutes() {
	register(s, op("get-trace", http.MethodGet, "/v1/traces/{trace_id}", "A request's timeline through the pipeline, relay, projections, sinks and automations (staff)", "operations", false),
		func(ctx context.Context, in *traceInput) (*Body[TraceView], error) {
			if _, err := requireKind(ctx, account.Staff); err != nil {
				return nil, err
			}
			steps, err := s.Store.TraceSteps(ctx, in.TraceID)
			if err != nil {
				return nil, err
			}
			if len(steps) == 0 {
				return nil, notFound("no steps recorded for this trace id")
			}
			v := TraceView{TraceID: in.TraceID, Steps: make([]TraceStep, len(steps))}
			for i, st := range steps {
				v.Steps[i] = TraceStep{Step: st.Step, Status: st.Status, Detail: st.Detail, At: st.At}
			}
			return &Body[TraceView]{Body: v}, nil
		})
	register(s, op("get-streams", http.MethodGet, "/v1/streams", "Streams, consumers, projections and their lag (staff)", "operations", false),
		func(ctx context.Context, _ *struct{}) (*Body[StreamsReport], error) {
			if err := s.needOps(ctx); err != nil {
				return nil, err
			}
			return body(s.Ops.Streams(ctx))
		})
	register(s, op("list-dead-letters", http.MethodGet, "/v1/dead-letters", "Events consumers gave up on, oldest first (staff)", "operations", false),
		func(ctx context.Context, in *deadLettersInput) (*Body[Page[DeadLetterView]], error) {
			if err := s.needOps(ctx); err != nil {
				return nil, err
			}
			dls, next, err := s.Ops.DeadLetters(ctx, &stream.DeadLetterPageParams{Consumer: in.Consumer, Limit: in.Limit, Cursor: in.Cursor})
			if err != nil {
				return nil, err
			}
			out := Page[DeadLetterView]{Items: make([]DeadLetterView, len(dls)), NextCursor: next}
			for i, d := range dls {
				v := DeadLetterView{ID: d.Sequence, Consumer: d.Consumer, Error: d.Error, Stream: d.Stream, Attempts: d.Attempts, At: d.At}
				if d.Event.StreamID != "" {
					v.EventID, v.EventType, v.StreamID = d.Event.ID.String(), d.Event.Type, d.Event.StreamID
				}
				out.Items[i] = v
			}
			return &Body[Page[DeadLetterView]]{Body: out}, nil
		})
	register(s, op("redrive-dead-letter", http.MethodPost, "/v1/dead-letters/{id}/redrive", "Deliver a parked event again to the consumer that parked it (staff)", "operations", false),
		func(ctx context.Context, in *redriveInput) (*Body[redriven], error) {
			if err := s.needOps(ctx); err != nil {
				return nil, err
			}
			// Redriving is naturally idempotent: a parked message is
			// removed once redriven, and a second redrive finds nothing.
			return body(redriven{ID: in.ID, Redriven: true}, s.Ops.Redrive(ctx, in.ID))
		})
	huma.Register(s.api, op("export-features", http.MethodGet, "/v1/exports/features", "Every account's features and rating, streamed as CSV or Parquet (staff)", "operations", false),
		func(ctx context.Context, in *exportInput) (*huma.StreamResponse, error) {
			if _, err := requireKind(ctx, account.Staff); err != nil {
				return nil, s.problemFor(ctx, err, nil)
			}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				ct, ext := "text/csv; charset=utf-8", "csv"
				if in.Format == features.FormatParquet {
					ct, ext = "application/vnd.apache.parquet", "parquet"
				}
				hc.SetHeader("Content-Type", ct)
				hc.SetHeader("Content-Disposition", `attachment; filename="features.`+ext+`"`)
				// Rows stream as they are read; an error half way can
				// only cut the body short, and is logged.
				if _, err := features.Export(ctx, s.ReadDB, in.Format, hc.BodyWriter(), nil); err != nil {
					_ = s.problemFor(ctx, err, nil)
				}
			}}, nil
		})
}

func (s *Server) needOps(ctx context.Context) error {
	if _, err := requireKind(ctx, account.Staff); err != nil {
		return err
	}
	if s.Ops == nil {
		return problem(http.StatusServiceUnavailable, codeUnavailable, "this process runs no stream engine")
	}
	return nil
}
