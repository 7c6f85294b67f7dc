package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// lookup returns the outcome of an earlier request with the same key, or
// (nil, nil) when there is none.
func (p *Pipeline) lookup(ctx context.Context, req *Request, attempts int) (*Outcome, error) {
	rec, err := p.store.Idempotency(ctx, req.IdempotencyKey)
	if errors.Is(err, eventstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: idempotency check: %w", req.Name, err)
	}
	return p.replay(ctx, req, rec, attempts)
}

// replay answers with a stored result, or refuses a reused key.
func (p *Pipeline) replay(ctx context.Context, req *Request, rec *eventstore.IdempotencyRecord, attempts int) (*Outcome, error) {
	if rec.Fingerprint != req.Fingerprint {
		p.trace(ctx, req, StatusRejected, "idempotency key already used for a different request")
		return nil, &IdempotencyMismatchError{Key: req.IdempotencyKey, Command: req.Name}
	}
	p.trace(ctx, req, StatusDuplicate, "answered with the result recorded for this idempotency key")
	return &Outcome{
		Result:   Result{Status: rec.Status, Body: rec.Response},
		Replayed: true,
		Attempts: attempts,
	}, nil
}
