package service

import (
	"context"
	"encoding/json"
	"time"

	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/activity"
	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// ExternalEvent is something that happened outside the platform, reported
// to its event log: a type to classify it by, a description for people,
// the customer (account) it concerns if any, when it happened, and the
// reporter's own data as a JSON object.
type ExternalEvent struct {
	Type        string
	Description string
	CustomerID  string
	OccurredAt  time.Time
	Data        json.RawMessage
}

// ActivityRef is the result of recording an external event; ID is the id
// the event log lists it under.
type ActivityRef struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	CustomerID string    `json:"customer_id,omitempty"`
	OccurredAt time.Time `json:"occurred_at"`
}

// RecordEvent records an external event on a stream of its own in the
// activity category, from where it reaches the event log like any domain
// event. Only staff record events: the log is evidence, and what customers
// did elsewhere is reported by the operators' systems. A customer id must
// name an existing account; its stream is loaded through the session, so
// the check holds at the moment of the append.
func (s *Service) RecordEvent(ctx context.Context, call Call, in ExternalEvent) (*command.Outcome, error) {
	if !call.Actor.IsStaff() {
		return nil, domain.Forbidden("", "only staff record external events")
	}
	if in.CustomerID != "" && eventstore.ValidateStreamID(accounts.Stream(in.CustomerID)) != nil {
		return nil, domain.Invalid("customer_id", "is not an account id")
	}
	id := newID()
	return s.pipeline.Run(ctx, call.request("RecordEvent", func(ctx context.Context, sess *command.Session) (command.Result, error) {
		ev, err := activity.Decide(activity.Record{ID: id, Type: in.Type, Description: in.Description,
			CustomerID: in.CustomerID, OccurredAt: in.OccurredAt, Data: in.Data}, s.now().UTC())
		if err != nil {
			return command.Result{}, err
		}
		if in.CustomerID != "" {
			customer, _, err := command.Load(ctx, sess, accounts, in.CustomerID)
			if err != nil {
				return command.Result{}, err
			}
			if !customer.Exists() {
				return command.Result{}, domain.Invalid("customer_id", "no account has this id")
			}
		}
		sess.Emit(activity.StreamID(id), ev)
		return reply(201, ActivityRef{ID: id, Type: ev.Type, CustomerID: ev.CustomerID, OccurredAt: ev.OccurredAt})
	}))
}
