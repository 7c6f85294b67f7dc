package command

import (
	"context"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// Sealer rewrites the events of one attempt of a command before they are
// encoded (the platform encrypts personal fields with it), and hands over
// the data keys it made for subjects that had none, which go in the same
// append as the events sealed with them.
type Sealer interface {
	// Seal returns what to encode in place of event, emitted to streamID.
	Seal(ctx context.Context, streamID string, event any) (any, error)
	// DataKeys returns the keys made while sealing.
	DataKeys() []eventstore.DataKey
}

// FreshSealer is a Sealer that can be told which streams the command takes
// as new (LoadNew), so that it makes their subjects' keys without looking
// for stored ones. Should a key exist after all, the append refuses it
// (eventstore.ErrDataKeyExists) and the command runs again with reads.
type FreshSealer interface {
	Sealer
	Fresh(streamID string)
}

// SealFunc is a Sealer that makes no data keys.
type SealFunc func(ctx context.Context, streamID string, event any) (any, error)

// Seal implements Sealer.
func (f SealFunc) Seal(ctx context.Context, streamID string, event any) (any, error) {
	return f(ctx, streamID, event)
}

// DataKeys implements Sealer: none.
func (SealFunc) DataKeys() []eventstore.DataKey { return nil }
