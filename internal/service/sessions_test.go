package service_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/service"
)

// sessions records whose sessions were ended, and fails when told to.
type sessions struct {
	mu    sync.Mutex
	ended []string
	err   error
}

func (s *sessions) RevokeSubject(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.ended = append(s.ended, id)
	return nil
}

// TestClosingOrErasingEndsSessions: whichever edge runs the command, an
// account that closes or is erased loses its sessions, and a failure to end
// them is not swallowed.
func TestClosingOrErasingEndsSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := &sessions{}
		e.svc.EndSessionsWith(s)
		civ := e.open(t, account.Civilian, "closer@example.org")
		other := e.open(t, account.Civilian, "eraser@example.org")
		as := func(id string) service.Call {
			return service.Call{Actor: service.Actor{ID: id, Kind: account.Civilian}}
		}

		if _, err := e.svc.CloseAccount(ctxT(t), as(other.ID), civ.ID, ""); err == nil {
			t.Fatal("closing another's account succeeded")
		}
		if len(s.ended) != 0 {
			t.Fatalf("a refused close ended sessions: %v", s.ended)
		}
		if _, err := e.svc.CloseAccount(ctxT(t), as(civ.ID), civ.ID, "moving"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.EraseAccount(ctxT(t), as(other.ID), other.ID); err != nil {
			t.Fatal(err)
		}
		if want := []string{civ.ID, other.ID}; !slices.Equal(s.ended, want) {
			t.Fatalf("ended %v, want %v", s.ended, want)
		}

		s.err = errors.New("database is down")
		third := e.open(t, account.Civilian, "third@example.org")
		if _, err := e.svc.CloseAccount(ctxT(t), as(third.ID), third.ID, ""); !errors.Is(err, s.err) {
			t.Fatalf("close with sessions failing to end: %v, want the failure", err)
		}
	})
}
