// Package service holds Bluepoint's use cases. Each one runs through the
// command pipeline: it loads the aggregates it needs, lets the pure domain
// decide, and appends what was decided together with the claims and
// credentials that go with it. The API edges and the CLI call these methods;
// none of them talks to the store directly.
package service

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/auth/password"
	"github.com/bluepoint/bluepoint/internal/codec"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/domain/activity"
	"github.com/bluepoint/bluepoint/internal/domain/product"
	"github.com/bluepoint/bluepoint/internal/domain/rule"
	"github.com/bluepoint/bluepoint/internal/domain/transfer"
	"github.com/bluepoint/bluepoint/internal/encounter"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/rules"
)

// Config is what a Service is built from.
type Config struct {
	// Store is the event store. Required.
	Store eventstore.Store
	// Master is the master key: it wraps every data key and keys the blind
	// indexes. Required.
	Master pii.MasterKey
	// Hasher hashes passwords. Default: password.DefaultParams, hashing on
	// half the CPUs at once (see password.NewHasher).
	Hasher *password.Hasher
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Pipeline tunes the command pipeline; its Seal hook is set by the service.
	Pipeline command.Config
	// EncounterKey signs encounter tokens. Required; every process of one
	// deployment must share it.
	EncounterKey ed25519.PrivateKey
	// EncounterTTL is how long an encounter token is valid. Default 5 minutes.
	EncounterTTL time.Duration
	// Rules tunes the rules engine.
	Rules rules.Config
}

// Service runs the platform's commands.
type Service struct {
	store    eventstore.Store
	master   pii.MasterKey
	cipher   *pii.Cipher
	hasher   *password.Hasher
	codec    *codec.Registry
	pipeline *command.Pipeline
	rules    *rules.Engine
	issuer   *encounter.Issuer
	now      func() time.Time
	sessions Sessions
}

// New builds a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("service: a store is required")
	}
	if cfg.Hasher == nil {
		cfg.Hasher = password.NewHasher(password.DefaultParams, 0)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.EncounterKey) != ed25519.PrivateKeySize {
		return nil, errors.New("service: an encounter signing key is required")
	}
	cipher, err := pii.NewCipher(cfg.Master, pii.VaultKeyring{Vault: cfg.Store})
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	reg := NewCodec()
	pc := cfg.Pipeline
	pc.Seal = sealer(cipher)
	if pc.Logger == nil {
		pc.Logger = cfg.Logger
	}
	p, err := command.New(cfg.Store, reg, pc)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	return &Service{store: cfg.Store, master: cfg.Master, cipher: cipher, hasher: cfg.Hasher,
		codec: reg, pipeline: p, now: cfg.Now, rules: rules.NewEngine(cfg.Rules),
		issuer: &encounter.Issuer{Key: cfg.EncounterKey, TTL: cfg.EncounterTTL, Now: cfg.Now}}, nil
}

// NewCodec registers every domain event of the platform.
func NewCodec() *codec.Registry {
	reg := codec.NewRegistry()
	account.Register(reg)
	product.Register(reg)
	transfer.Register(reg)
	rule.Register(reg)
	activity.Register(reg)
	return reg
}

// Codec returns the registry the service encodes events with, so that
// readers decode them the same way.
func (s *Service) Codec() *codec.Registry { return s.codec }

// Cipher returns the cipher that seals personal fields, so that readers
// allowed to see them can open them.
func (s *Service) Cipher() *pii.Cipher { return s.cipher }

// sealer encrypts the personal fields of events on account streams with the
// account's data key: personal data lives only in account streams. A new
// account's key is made while sealing and stored with its first events.
func sealer(c *pii.Cipher) func() command.Sealer {
	return func() command.Sealer { return &accountSealer{s: c.Sealing()} }
}

type accountSealer struct{ s *pii.Sealing }

func (a *accountSealer) Seal(ctx context.Context, streamID string, ev any) (any, error) {
	const prefix = account.Category + "-"
	subject, ok := strings.CutPrefix(streamID, prefix)
	if !ok || subject == "" {
		return ev, nil
	}
	return a.s.SealValue(ctx, subject, ev)
}

// Fresh implements command.FreshSealer: an account stream the command
// opens under a new id has no data key yet.
func (a *accountSealer) Fresh(streamID string) {
	if subject, ok := strings.CutPrefix(streamID, account.Category+"-"); ok && subject != "" {
		a.s.Fresh(subject)
	}
}

func (a *accountSealer) DataKeys() []eventstore.DataKey {
	made := a.s.NewKeys()
	keys := make([]eventstore.DataKey, len(made))
	for i, k := range made {
		keys[i] = eventstore.DataKey{Subject: k.Subject, Wrapped: k.Wrapped}
	}
	return keys
}

// Actor is who makes a call. The zero Actor is anonymous.
type Actor struct {
	ID   string
	Kind account.Kind
}

// IsStaff reports whether the actor is a platform operator.
func (a Actor) IsStaff() bool { return a.Kind == account.Staff }

// Call carries what every command shares: who calls, the client's
// idempotency key and request fingerprint, and the trace id.
type Call struct {
	Actor          Actor
	IdempotencyKey string
	Fingerprint    string
	TraceID        string
	// CausationID is the event that caused this call (automations).
	CausationID string
	// Depth is how many automations led to this call (see Metadata.Depth).
	Depth int
}

func (c Call) request(name string, h func(context.Context, *command.Session) (command.Result, error)) *command.Request {
	return &command.Request{
		Name:           name,
		IdempotencyKey: c.IdempotencyKey,
		Fingerprint:    c.Fingerprint,
		Meta: eventstore.Metadata{TraceID: c.TraceID, CorrelationID: c.TraceID,
			CausationID: c.CausationID, ActorID: c.Actor.ID, Depth: c.Depth},
		Handle: h,
	}
}

// reply makes a command result from a status and a JSON-able body.
func reply(status int, body any) (command.Result, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return command.Result{}, fmt.Errorf("encode result: %w", err)
	}
	return command.Result{Status: status, Body: b}, nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// selfOrStaff refuses an actor acting on another account.
func selfOrStaff(a Actor, accountID string) error {
	if a.ID == "" {
		return domain.Forbidden("", "sign in first")
	}
	if a.ID != accountID && !a.IsStaff() {
		return domain.Forbidden("", "only the account itself or staff may do this")
	}
	return nil
}

var accounts = command.Aggregate[account.State]{
	Category: account.Category,
	Initial:  account.Initial,
	Evolve:   account.Evolve,
}
