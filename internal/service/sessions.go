package service

import (
	"context"
	"fmt"
)

// Sessions ends the signed-in sessions of an account. The API's token
// manager implements it.
type Sessions interface {
	RevokeSubject(ctx context.Context, accountID string) error
}

// EndSessionsWith makes closing or erasing an account end its sessions
// through sessions, whichever edge ran the command. It must be called before
// the service runs commands.
func (s *Service) EndSessionsWith(sessions Sessions) { s.sessions = sessions }

// endSessions runs after the account's events are stored: a failure here
// leaves the account closed with sessions that live on until they expire,
// so it is reported and the client may retry (a retry is idempotent).
func (s *Service) endSessions(ctx context.Context, id string) error {
	if s.sessions == nil {
		return nil
	}
	if err := s.sessions.RevokeSubject(ctx, id); err != nil {
		return fmt.Errorf("end the sessions of account %s: %w", id, err)
	}
	return nil
}
