package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"syscall"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

var leaseName = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

// TryLease implements eventstore.Store with an advisory file lock beside the
// database, so it holds across processes sharing the file; the kernel frees
// it when the holder dies.
func (s *Store) TryLease(ctx context.Context, name string) (eventstore.Lease, bool, error) {
	if !leaseName.MatchString(name) {
		return nil, false, &eventstore.ValidationError{Field: "name", Reason: "must be 1 to 64 of a-z 0-9 _ . -"}
	}
	f, err := os.OpenFile(s.cfg.Path+".lease-"+name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: lease %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("sqlite: lease %s: %w", name, err)
	}
	return &fileLease{f: f, lost: make(chan struct{})}, true, nil
}

// fileLease is never lost while its process lives.
type fileLease struct {
	f    *os.File
	lost chan struct{}
}

func (l *fileLease) Lost() <-chan struct{} { return l.lost }

func (l *fileLease) Release() error {
	// Closing the file drops the lock.
	return l.f.Close()
}
